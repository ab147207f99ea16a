// One reservation on my page: its seats, money and timeline; cancel all or some seats after seeing the quote.
import { useState } from "react";
import { Link } from "wouter";
import { api, asProblem, type Problem, type Schemas } from "../../api/client";
import { Loading, ProblemBanner, StatusBadge } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

type Seat = { row: number; col: number; grade: string; price: number };

export default function ReservationPage({ reservationId }: { reservationId: string }) {
  const { t, instant, money } = useI18n();
  const mine = useApi(
    () => api.GET("/me/reservations/{reservationId}", { params: { path: { reservationId } } }),
    [reservationId],
    4000,
  );
  const r = mine.data;
  if (mine.problem && !r) return <ProblemBanner problem={mine.problem} />;
  if (!r) return <Loading />;
  const seats = r.seats as Seat[];
  return (
    <section>
      <p>
        <Link href="/me">← {t("My page")}</Link>
      </p>
      <h1>{r.performanceTitle ?? t("Reservation")}</h1>
      <p data-testid="reservation-status">
        <StatusBadge status={r.status} /> {r.startsAt ? instant(r.startsAt) : ""}
      </p>
      <dl className="facts">
        <dt>{t("Paid")}</dt>
        <dd data-testid="paid">{money(r.paid, r.currency)}</dd>
        <dt>{t("Refunded")}</dt>
        <dd data-testid="refunded">{money(r.refunded, r.currency)}</dd>
        <dt>{t("Fees kept")}</dt>
        <dd>{money(r.fees, r.currency)}</dd>
      </dl>
      <h2>{t("Seats")}</h2>
      <ul>
        {seats.map((s) => (
          <li key={`${s.row}-${s.col}`}>
            {t("Row {row}, seat {col}", { row: s.row, col: s.col })} · {s.grade} · {money(s.price, r.currency)}
          </li>
        ))}
      </ul>
      {(r.cancelledSeats as Seat[]).length ? (
        <p className="muted">
          {t("Cancelled")}: {(r.cancelledSeats as Seat[]).map((s) => `${s.row}-${s.col}`).join(", ")}
        </p>
      ) : null}
      {r.status === "CONFIRMED" && seats.length ? (
        <CancelSeats reservationId={reservationId} seats={seats} currency={r.currency} onDone={() => void mine.reload()} />
      ) : null}
      <h2>{t("Timeline")}</h2>
      <Timeline entries={r.timeline} currency={r.currency} />
    </section>
  );
}

export function Timeline({ entries, currency }: { entries: Schemas["TimelineEntry"][]; currency: string }) {
  const { t, instant, money } = useI18n();
  return (
    <ol className="timeline" data-testid="timeline">
      {entries.map((e) => (
        <li key={e.eventId} data-type={e.type}>
          <time dateTime={e.at}>{instant(e.at)}</time> <strong>{t(e.type)}</strong> {e.summary}
          {e.amount != null ? ` · ${money(e.amount, currency)}` : ""}
        </li>
      ))}
    </ol>
  );
}

function CancelSeats(props: { reservationId: string; seats: Seat[]; currency: string; onDone: () => void }) {
  const { t, money, instant } = useI18n();
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [quote, setQuote] = useState<Schemas["CancellationQuote"] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string>("");
  const key = (s: Seat) => `${s.row}-${s.col}`;
  const all = picked.size === 0 || picked.size === props.seats.length;

  const ask = async () => {
    setProblem(null);
    const { data, error, response } = await api.GET("/reservations/{reservationId}/cancellation-quote", {
      params: { path: { reservationId: props.reservationId }, query: { seats: all ? undefined : [...picked].join(",") } },
    });
    if (!data) return setProblem(asProblem(error, response.status));
    setQuote(data);
  };
  const confirm = async () => {
    setBusy(true);
    const out = all
      ? await api.DELETE("/reservations/{reservationId}", {
          params: { path: { reservationId: props.reservationId }, header: { Prefer: "wait=10" } },
          body: {},
        })
      : await api.POST("/reservations/{reservationId}/cancellations", {
          params: { path: { reservationId: props.reservationId }, header: { Prefer: "wait=10" } },
          body: {
            seats: [...picked].map((k) => {
              const [row, col] = k.split("-").map(Number);
              return { row, col };
            }),
          },
        });
    setBusy(false);
    if (!out.data) return setProblem(asProblem(out.error, out.response.status));
    setQuote(null);
    setPicked(new Set());
    setResult(
      out.data.cancellation?.status === "DONE" || !out.data.cancellation
        ? t("Cancelled.")
        : t("Cancellation under way: the refund follows shortly."),
    );
    props.onDone();
  };

  return (
    <section className="panel" aria-label={t("Cancel seats")}>
      <h2>{t("Cancel seats")}</h2>
      <fieldset>
        <legend>{t("Which seats? (none ticked: all of them)")}</legend>
        {props.seats.map((s) => (
          <label key={key(s)}>
            <input
              type="checkbox"
              checked={picked.has(key(s))}
              onChange={(e) => {
                const next = new Set(picked);
                if (e.target.checked) next.add(key(s));
                else next.delete(key(s));
                setPicked(next);
                setQuote(null);
              }}
            />{" "}
            {t("Row {row}, seat {col}", { row: s.row, col: s.col })}
          </label>
        ))}
      </fieldset>
      <ProblemBanner problem={problem} />
      {result ? <p role="status">{result}</p> : null}
      {quote ? (
        <div className="quote" data-testid="quote">
          <p>
            {t("Seats' price")}: {money(quote.amount, props.currency)} · {t("Fee")} ({quote.feePercent}%):{" "}
            {money(quote.fee, props.currency)} · <strong>{t("Refund")}: {money(quote.refund, props.currency)}</strong>
          </p>
          <p className="muted">{t("This quote holds until {when}.", { when: instant(quote.validUntil) })}</p>
          <button type="button" className="danger" onClick={confirm} disabled={busy}>
            {t("Confirm the cancellation")}
          </button>{" "}
          <button type="button" onClick={() => setQuote(null)}>
            {t("Keep my seats")}
          </button>
        </div>
      ) : (
        <button type="button" onClick={ask}>
          {all ? t("What would cancelling everything cost?") : t("What would cancelling these cost?")}
        </button>
      )}
    </section>
  );
}
