// Admins: the card provider's circuit breaker (GET /admin/payment-provider), refreshed every few seconds:
// whether cards are being charged, since when, and the window of recent calls that decides it.
import { api } from "../../api/client";
import { Loading, ProblemBanner } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

export default function PaymentProvider() {
  const { t, instant } = useI18n();
  const status = useApi(() => api.GET("/admin/payment-provider"), [], 3000);
  const s = status.data;
  const label: Record<string, string> = { CLOSED: "Taking cards", OPEN: "Cards paused", HALF_OPEN: "Probing" };
  const explain: Record<string, string> = {
    CLOSED: "Cards are charged as usual.",
    OPEN: "Cards are not charged: holds with a card fall back to pay-later, top-ups and card payments answer “try again later”, wallet payments go on.",
    HALF_OPEN: "A few probe payments decide whether cards are charged again.",
  };
  return (
    <section>
      <h1>{t("Payment provider")}</h1>
      <ProblemBanner problem={status.problem} />
      {!s ? (
        <Loading />
      ) : (
        <>
          <div className="card" data-testid="breaker" data-state={s.state}>
            <p>
              <span className={`badge badge-breaker-${s.state.toLowerCase()}`} data-testid="breaker-state">
                {t(label[s.state] ?? s.state)}
              </span>{" "}
              {t("since {at}", { at: instant(s.since) })}
              {s.retryAfterSeconds != null ? (
                <span data-testid="breaker-retry"> · {t("probes in {seconds} s", { seconds: String(s.retryAfterSeconds) })}</span>
              ) : null}
            </p>
            <p>{t(explain[s.state] ?? "")}</p>
            {!s.enabled ? <p className="muted">{t("The breaker is disabled on this stack: every card is charged.")}</p> : null}
          </div>
          <table data-testid="breaker-window">
            <caption>{t("The last {seconds} s (since its last change)", { seconds: String(s.window.seconds) })}</caption>
            <tbody>
              <tr>
                <th scope="row">{t("Calls")}</th>
                <td data-testid="window-calls">{s.window.calls}</td>
              </tr>
              <tr>
                <th scope="row">{t("Failed or timed out")}</th>
                <td data-testid="window-failures">{s.window.failures}</td>
              </tr>
              <tr>
                <th scope="row">{t("Opens at")}</th>
                <td>
                  {t("{percent}% failing of at least {calls} calls", {
                    percent: String(s.window.failurePercent),
                    calls: String(s.window.minCalls),
                  })}
                </td>
              </tr>
              <tr>
                <th scope="row">{t("Cool-down")}</th>
                <td>{t("{seconds} s, then {probes} probe payments", { seconds: String(s.window.cooldownSeconds), probes: String(s.window.probes) })}</td>
              </tr>
              <tr>
                <th scope="row">{t("Call timeout")}</th>
                <td>{`${s.window.callTimeoutMillis} ms`}</td>
              </tr>
              <tr>
                <th scope="row">{t("Generation")}</th>
                <td data-testid="breaker-generation">{s.generation}</td>
              </tr>
              <tr>
                <th scope="row">{t("Writes to its state")}</th>
                <td>{s.stateWrites}</td>
              </tr>
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
