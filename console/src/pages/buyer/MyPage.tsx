// My page: every reservation with its state, what was paid and refunded, newest first.
import { Link } from "wouter";
import { api } from "../../api/client";
import { Loading, ProblemBanner, StatusBadge } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

export default function MyPage() {
  const { t, instant, money } = useI18n();
  const list = useApi(() => api.GET("/me/reservations", { params: { query: { limit: 50 } } }), [], 5000);
  return (
    <section>
      <h1>{t("My page")}</h1>
      <ProblemBanner problem={list.problem} />
      {!list.data ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <p className="muted">
          {t("No reservations yet.")} <Link href="/">{t("Find a show")}</Link>
        </p>
      ) : (
        <ul className="cards">
          {list.data.items.map((r) => (
            <li key={r.reservationId} className="card" data-reservation-id={r.reservationId}>
              <Link href={`/me/reservations/${r.reservationId}`}>
                <h2>{r.performanceTitle ?? t("Reservation")}</h2>
              </Link>
              <p>
                <StatusBadge status={r.status} /> {r.startsAt ? instant(r.startsAt) : ""}
              </p>
              <p className="muted">
                {t("{n} seats", { n: r.seats.length })} · {t("Paid")} {money(r.paid, r.currency)}
                {r.refunded ? ` · ${t("Refunded")} ${money(r.refunded, r.currency)}` : ""}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
