// The seat picker: the showtime's map with its price legend, up to 10 seats, then a hold paid by card token
// or wallet points (waiting for the outcome with `Prefer: wait`), or held to pay within the hold window.
// A seat someone else took meanwhile is named, the map refreshed and the seat dropped from the selection.
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link } from "wouter";
import { api, asProblem, newKey, type PaymentInput, type Problem, type Reservation } from "../../api/client";
import { Countdown } from "../../components/Countdown";
import { TEST_CARDS, TestCardSelect } from "../../components/TestCard";
import { Legend, parseMap, SeatCanvas, seatKey, seatStatus } from "../../components/SeatCanvas";
import { Loading, ProblemBanner, StatusBadge } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi, usePerformance } from "../../lib/useApi";
import { WaitingRoom } from "./WaitingRoom";

const MAX_SEATS = 10;

type Method = "CARD" | "WALLET" | "LATER";

export function SeatPicker({ performanceId, showtimeId }: { performanceId: string; showtimeId: string }) {
  const { t, money, instant } = useI18n();
  const { performance: perf, showtimes: shows } = usePerformance(performanceId);
  const seats = useApi(
    () =>
      api.GET("/performances/{performanceId}/showtimes/{showtimeId}/seats", {
        params: { path: { performanceId, showtimeId } },
      }),
    [performanceId, showtimeId],
    15000,
  );
  const map = useMemo(() => (seats.data ? parseMap(seats.data) : null), [seats.data]);
  const show = shows.data?.items.find((s) => s.id === showtimeId);
  // A performance may allow fewer tickets per member than a hold can take.
  const perMember = perf.data?.maxTicketsPerMember ?? null;
  const maxSeats = perMember == null ? MAX_SEATS : Math.min(MAX_SEATS, perMember);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [lost, setLost] = useState<Set<string>>(new Set());
  const [note, setNote] = useState("");
  const [method, setMethod] = useState<Method>("CARD");
  const [card, setCard] = useState(TEST_CARDS[0].token);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [reservation, setReservation] = useState<Reservation | null>(null);
  const [retryAfter, setRetryAfter] = useState<number | null>(null);
  const [admission, setAdmission] = useState<string | null>(null);

  const pick = useCallback(
    (row: number, col: number) => {
      if (!map) return;
      const key = seatKey(row, col);
      setLost(new Set());
      setSelected((prev) => {
        const next = new Set(prev);
        if (next.has(key)) {
          next.delete(key);
          setNote(t("Row {row}, seat {col} removed", { row, col }));
        } else if (seatStatus(map, row, col) !== "A") {
          setNote(t("Row {row}, seat {col} is not available", { row, col }));
        } else if (next.size >= maxSeats) {
          setNote(t("At most {n} seats at a time", { n: maxSeats }));
        } else {
          next.add(key);
          setNote(t("Row {row}, seat {col} selected", { row, col }));
        }
        return next;
      });
    },
    [map, t, maxSeats],
  );

  const chosen = useMemo(() => {
    if (!map) return [];
    return [...selected]
      .map((k) => k.split(":").map(Number) as [number, number])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .map(([row, col]) => {
        const g = map.grades[map.rowGrade[row - 1]];
        return { row, col, grade: g?.grade ?? "", price: g?.price ?? 0 };
      });
  }, [selected, map]);
  const total = chosen.reduce((sum, s) => sum + s.price, 0);
  const currency = seats.data?.currency ?? "KRW";

  // A hold in flight: follow it until the saga ends it (CONFIRMED, FAILED, EXPIRED).
  useEffect(() => {
    if (!reservation || reservation.status !== "HELD" || method === "LATER" || reservation.fallback) return;
    const timer = setInterval(async () => {
      const { data } = await api.GET("/reservations/{reservationId}", {
        params: { path: { reservationId: reservation.id } },
      });
      // Ended, or its card fell back to pay-later in the saga (the buyer pays again).
      if (data && (data.status !== "HELD" || data.fallback)) {
        setReservation(data);
        // Sold or given back: the map shows it now, not at its next refresh.
        if (data.status !== "HELD") void seats.reload();
      }
    }, 1000);
    return () => clearInterval(timer);
  }, [reservation, method, seats.reload]);

  const hold = async () => {
    setBusy(true);
    setProblem(null);
    const payment: PaymentInput | undefined =
      method === "CARD" ? { method: "CARD", token: card } : method === "WALLET" ? { method: "WALLET" } : undefined;
    const { data, error, response } = await api.POST("/reservations", {
      body: {
        showtimeId,
        seats: chosen.map(({ row, col }) => ({ row, col })),
        payment: payment ?? null,
        admissionToken: admission,
      },
      params: { header: { "Idempotency-Key": newKey(), Prefer: "wait=10" } },
    });
    setBusy(false);
    if (data) {
      // A card the payment provider could not take now: the hold waits for a payment (Retry-After: when cards
      // may be taken again).
      setRetryAfter(data.fallback ? Number(response.headers.get("Retry-After")) || null : null);
      setReservation(data);
      setSelected(new Set());
      void seats.reload();
      return;
    }
    const p = asProblem(error, response.status);
    setProblem(p);
    if (p.unavailableSeats?.length) {
      // Someone else took these meanwhile: name them, refresh the map, keep the rest of the selection.
      const gone = new Set(p.unavailableSeats.map((s) => seatKey(s.row, s.col)));
      setLost(gone);
      setSelected((prev) => new Set([...prev].filter((k) => !gone.has(k))));
      void seats.reload();
    }
  };

  const payHeld = async (payment: PaymentInput) => {
    if (!reservation) return;
    setBusy(true);
    setProblem(null);
    const { data, error, response } = await api.POST("/reservations/{reservationId}/payment", {
      params: { path: { reservationId: reservation.id }, header: { Prefer: "wait=10" } },
      body: { payment },
    });
    setBusy(false);
    if (data) {
      setMethod("CARD");
      setReservation(data);
      // The held seats are sold now (or free again): the map says so at once.
      void seats.reload();
    } else setProblem(asProblem(error, response.status));
  };

  if (seats.problem && !seats.data) return <ProblemBanner problem={seats.problem} />;
  if (!map || !seats.data) return <Loading />;

  return (
    <section className="picker">
      <p>
        <Link href={`/performances/${performanceId}`}>← {perf.data?.title ?? t("Back")}</Link>
      </p>
      <h1>
        {perf.data?.title} · {show ? instant(show.startsAt) : ""}
      </h1>
      <p className="muted">
        {show?.venueName} · {t("{n} seats available", { n: seats.data.available })}
      </p>
      {show?.waitingRoom && !admission ? (
        <WaitingRoom showtimeId={showtimeId} onAdmitted={setAdmission} />
      ) : (
        <div className="picker-layout">
          <div>
            <Legend map={map} currency={currency} />
            <SeatCanvas
              map={map}
              selected={selected}
              lost={lost}
              onPick={pick}
              label={t("Seat map: pick up to {n} seats", { n: maxSeats })}
            />
            {perMember != null ? (
              <p className="hint" data-testid="ticket-limit">
                {t("Up to {n} tickets per member for each showtime", { n: perMember })}
              </p>
            ) : null}
            <p className="sr-only" aria-live="assertive">
              {note}
            </p>
          </div>
          <aside className="panel" aria-label={t("Your selection")}>
            {reservation ? (
              <Outcome reservation={reservation} method={method} busy={busy} onPay={payHeld} retryAfter={retryAfter} />
            ) : (
              <>
                <h2>{t("Your selection")}</h2>
                {chosen.length === 0 ? (
                  <p className="muted">{t("Click seats on the map, or use the arrow keys and Enter.")}</p>
                ) : (
                  <ul className="selection" data-testid="selection">
                    {chosen.map((s) => (
                      <li key={seatKey(s.row, s.col)}>
                        {t("Row {row}, seat {col}", { row: s.row, col: s.col })} · {s.grade} · {money(s.price, currency)}
                        <button
                          type="button"
                          className="link"
                          onClick={() => pick(s.row, s.col)}
                          aria-label={t("Remove row {row}, seat {col}", { row: s.row, col: s.col })}
                        >
                          ×
                        </button>
                      </li>
                    ))}
                  </ul>
                )}
                <p className="total">
                  {t("Total")}: <strong data-testid="total">{money(total, currency)}</strong>
                </p>
                <fieldset>
                  <legend>{t("Payment")}</legend>
                  <label>
                    <input type="radio" name="method" checked={method === "CARD"} onChange={() => setMethod("CARD")} />{" "}
                    {t("Card")}
                  </label>
                  {method === "CARD" ? (
                    <TestCardSelect value={card} onChange={setCard} className="indent" />
                  ) : null}
                  <label>
                    <input
                      type="radio"
                      name="method"
                      checked={method === "WALLET"}
                      onChange={() => setMethod("WALLET")}
                    />{" "}
                    {t("Wallet points")}
                  </label>
                  <label>
                    <input type="radio" name="method" checked={method === "LATER"} onChange={() => setMethod("LATER")} />{" "}
                    {t("Hold now, pay within the hold time")}
                  </label>
                </fieldset>
                <ProblemBanner problem={problem} />
                {lost.size ? (
                  <p role="alert" className="problem" data-testid="lost-seats">
                    {t("Taken meanwhile by someone else: {seats}. The map is refreshed; pick others.", {
                      seats: [...lost]
                        .map((k) => {
                          const [row, col] = k.split(":");
                          return t("row {row} seat {col}", { row, col });
                        })
                        .join(", "),
                    })}
                  </p>
                ) : null}
                <button type="button" className="primary" disabled={busy || chosen.length === 0} onClick={hold}>
                  {busy
                    ? t("Working…")
                    : method === "LATER"
                      ? t("Hold {n} seats", { n: chosen.length })
                      : t("Pay {amount}", { amount: money(total, currency) })}
                </button>
              </>
            )}
          </aside>
        </div>
      )}
    </section>
  );
}

function Outcome(props: {
  reservation: Reservation;
  method: Method;
  busy: boolean;
  onPay: (p: PaymentInput) => void;
  retryAfter: number | null;
}) {
  const { t, money, instant } = useI18n();
  const r = props.reservation;
  const [card, setCard] = useState(TEST_CARDS[0].token);
  return (
    <div data-testid="outcome" data-status={r.status}>
      <h2>
        {r.status === "CONFIRMED"
          ? t("Booked!")
          : r.status === "FAILED"
            ? t("Payment failed")
            : r.status === "HELD"
              ? t("Seats held")
              : t(r.status)}{" "}
        <StatusBadge status={r.status} />
      </h2>
      <ul>
        {r.seats.map((s) => (
          <li key={`${s.row}-${s.col}`}>
            {t("Row {row}, seat {col}", { row: s.row, col: s.col })} · {s.grade} · {money(s.price, r.currency)}
          </li>
        ))}
      </ul>
      <p>
        {t("Total")}: {money(r.totalPrice, r.currency)}
      </p>
      {r.status === "FAILED" || r.status === "EXPIRED" ? (
        <p role="alert" className="problem" data-testid="failure-reason">
          {t("Why")}: {t(r.failureReason ?? "unknown")}
        </p>
      ) : null}
      {r.status === "HELD" ? (
        <>
          <Countdown until={r.holdExpiresAt} label={t("Held for")} />
          {r.fallback === "PAY_LATER" ? (
            <p role="status" className="notice" data-testid="pay-later">
              {props.retryAfter
                ? t(
                    "Card payments are paused while the payment provider recovers. Your seats stay held until {until}: pay with wallet points now, or by card in {seconds} s.",
                    { until: instant(r.holdExpiresAt), seconds: props.retryAfter },
                  )
                : t(
                    "Card payments are paused while the payment provider recovers. Your seats stay held: pay with wallet points, or by card a little later.",
                  )}
            </p>
          ) : null}
          {props.method === "LATER" || r.fallback === "PAY_LATER" ? (
            <div>
              <TestCardSelect value={card} onChange={setCard} />{" "}
              <button
                type="button"
                className="primary"
                disabled={props.busy}
                onClick={() => props.onPay({ method: "CARD", token: card })}
              >
                {t("Pay by card")}
              </button>{" "}
              <button type="button" disabled={props.busy} onClick={() => props.onPay({ method: "WALLET" })}>
                {t("Pay with points")}
              </button>
            </div>
          ) : (
            <p aria-live="polite">{t("Waiting for the payment's outcome…")}</p>
          )}
        </>
      ) : null}
      <p>
        <Link href={`/me/reservations/${r.id}`}>{t("See it on my page")}</Link>
      </p>
    </div>
  );
}
