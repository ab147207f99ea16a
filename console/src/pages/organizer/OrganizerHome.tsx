// An organizer's performances in every review state, with the reason of a rejection.
import { Link } from "wouter";
import { api } from "../../api/client";
import { Loading, ProblemBanner, StatusBadge } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

export default function OrganizerHome() {
  const { t, instant } = useI18n();
  const list = useApi(() => api.GET("/organizer/performances", { params: { query: { limit: 100 } } }), []);
  return (
    <section>
      <h1>{t("My performances")}</h1>
      <p>
        <Link className="button primary" href="/organizer/new">
          {t("New performance")}
        </Link>
      </p>
      <ProblemBanner problem={list.problem} />
      {!list.data ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <p className="muted">{t("No performances yet.")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("Title")}</th>
              <th scope="col">{t("Review")}</th>
              <th scope="col">{t("On sale")}</th>
              <th scope="col">{t("Updated")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((p) => (
              <tr key={p.id} data-performance-id={p.id}>
                <td>
                  <Link href={`/organizer/performances/${p.id}`}>{p.title}</Link>
                </td>
                <td>
                  <StatusBadge status={p.status} />
                  {p.rejectionReason ? (
                    <div className="problem-inline">
                      {t("Rejected because")}: {p.rejectionReason}
                    </div>
                  ) : null}
                </td>
                <td>
                  {instant(p.saleOpensAt)} – {instant(p.saleClosesAt)}
                </td>
                <td>{instant(p.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
