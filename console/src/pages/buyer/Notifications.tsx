// Notifications, newest first, with the unread ones marked; opening one marks it read.
import { api } from "../../api/client";
import { Loading, ProblemBanner } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

export default function Notifications() {
  const { t, instant } = useI18n();
  const list = useApi(() => api.GET("/notifications", { params: { query: { limit: 50 } } }), [], 10000);
  const read = async (notificationId: string) => {
    await api.POST("/notifications/{notificationId}/read", { params: { path: { notificationId } } });
    void list.reload();
  };
  return (
    <section>
      <h1>{t("Notifications")}</h1>
      <ProblemBanner problem={list.problem} />
      {!list.data ? (
        <Loading />
      ) : (
        <>
          <p data-testid="unread">{t("{n} unread", { n: list.data.unread })}</p>
          <ul className="list">
            {list.data.items.map((n) => (
              <li key={n.id} className={n.readAt ? "read" : "unread"}>
                <details onToggle={(e) => (e.currentTarget.open && !n.readAt ? void read(n.id) : undefined)}>
                  <summary>
                    {n.readAt ? "" : "● "}
                    <strong>{n.subject}</strong> <span className="muted">{instant(n.occurredAt)}</span>
                  </summary>
                  <p style={{ whiteSpace: "pre-wrap" }}>{n.body}</p>
                </details>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
