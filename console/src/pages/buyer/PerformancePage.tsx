// A performance: what it is, its cancellation terms, and its showtimes to pick seats from.
import { Link } from "wouter";
import { Loading, ProblemBanner, StatusBadge } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { usePerformance } from "../../lib/useApi";

export function PerformancePage({ performanceId }: { performanceId: string }) {
  const { t, instant } = useI18n();
  const { performance: perf, showtimes: shows } = usePerformance(performanceId);
  if (perf.problem) return <ProblemBanner problem={perf.problem} />;
  const p = perf.data;
  if (!p) return <Loading />;
  return (
    <section>
      <h1>{p.title}</h1>
      <p className="muted">
        {t(p.category)} · {p.ageRating} · {t("{n} minutes", { n: p.runningTimeMinutes })} · {p.venue.name},{" "}
        {p.venue.city}
      </p>
      {p.description ? <p className="description">{p.description}</p> : null}
      <p>
        {t("On sale {from} – {to}", { from: instant(p.saleOpensAt), to: instant(p.saleClosesAt) })}
      </p>
      <h2>{t("Showtimes")}</h2>
      <ProblemBanner problem={shows.problem} />
      {!shows.data ? (
        <Loading />
      ) : (
        <ul className="list">
          {shows.data.items.map((s) => (
            <li key={s.id}>
              <span>
                {instant(s.startsAt)} · {s.venueName}
              </span>{" "}
              {s.status === "CANCELLED" ? (
                <StatusBadge status="CANCELLED" />
              ) : (
                <Link className="button primary" href={`/performances/${p.id}/showtimes/${s.id}`}>
                  {t("Pick seats")}
                </Link>
              )}
            </li>
          ))}
        </ul>
      )}
      <h2>{t("Cancellation terms")}</h2>
      <ul>
        {(p.refundPolicy?.tiers ?? []).map((tier) => (
          <li key={tier.daysBefore}>
            {t("From {d} days before the show: {p}% fee", { d: tier.daysBefore, p: tier.feePercent })}
          </li>
        ))}
        {p.refundPolicy && p.refundPolicy.graceHours > 0 ? (
          <li>
            {t("Free within {h} hours of booking, if the show is at least {d} days away", {
              h: p.refundPolicy.graceHours,
              d: p.refundPolicy.graceMinDaysBefore,
            })}
          </li>
        ) : null}
      </ul>
    </section>
  );
}
