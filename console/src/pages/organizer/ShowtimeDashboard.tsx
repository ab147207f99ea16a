// A showtime's sales, live: the seat map (available / held / sold), counts and revenue per grade, sales per
// day, the reservations; change its time or venue, switch its waiting room on, or cancel it and watch the
// sweep until it is done.
import { useMemo, useState } from "react";
import { Link } from "wouter";
import { api, asProblem, type Problem, type Reservation, type Schemas } from "../../api/client";
import { Legend, parseMap, SeatCanvas } from "../../components/SeatCanvas";
import { fieldError, Loading, ProblemBanner, SeatList, StatusBadge, TextField } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";
import { ShowtimeEditor } from "./ShowtimeEditor";

const LIVE_MS = 3000;

export default function ShowtimeDashboard({ performanceId, showtimeId }: { performanceId: string; showtimeId: string }) {
  const { t, instant, money } = useI18n();
  const seats = useApi(
    () =>
      api.GET("/performances/{performanceId}/showtimes/{showtimeId}/seats", {
        params: { path: { performanceId, showtimeId } },
      }),
    [performanceId, showtimeId],
    LIVE_MS,
  );
  const sales = useApi(
    () =>
      api.GET("/performances/{performanceId}/reservations", {
        params: { path: { performanceId }, query: { limit: 100 } },
      }),
    [performanceId],
    LIVE_MS,
  );
  const shows = useApi(
    () =>
      api.GET("/performances/{performanceId}/showtimes", {
        params: { path: { performanceId }, query: { limit: 100 } },
      }),
    [performanceId],
  );
  const perf = useApi(() => api.GET("/performances/{performanceId}", { params: { path: { performanceId } } }), [performanceId]);
  const show = shows.data?.items.find((s) => s.id === showtimeId);
  const map = useMemo(() => (seats.data ? parseMap(seats.data) : null), [seats.data]);
  const summary = sales.data?.showtimes.find((s) => s.showtimeId === showtimeId);
  const reservations = useMemo(
    () => (sales.data?.reservations.items ?? []).filter((r) => r.showtimeId === showtimeId),
    [sales.data, showtimeId],
  );
  const [editing, setEditing] = useState(false);
  const currency = seats.data?.currency ?? "KRW";

  if (seats.problem && !seats.data) return <ProblemBanner problem={seats.problem} />;
  if (!seats.data || !map) return <Loading />;

  return (
    <section>
      <p>
        <Link href={`/organizer/performances/${performanceId}`}>← {perf.data?.title ?? t("Performance")}</Link>
      </p>
      <h1>
        {perf.data?.title} · {show ? instant(show.startsAt) : ""} {show ? <StatusBadge status={show.status} /> : null}
      </h1>
      <p className="muted">{show?.venueName}</p>
      <div className="stats" data-testid="sales-summary">
        <Stat label={t("Sold")} value={String(seats.data.sold)} testId="sold" />
        <Stat label={t("Held")} value={String(seats.data.held)} testId="held" />
        <Stat label={t("Available")} value={String(seats.data.available)} testId="available" />
        <Stat label={t("Revenue")} value={summary ? money(summary.revenue, currency) : "…"} testId="revenue" />
      </div>
      <h2>{t("Per grade")}</h2>
      <table data-testid="grades">
        <thead>
          <tr>
            <th scope="col">{t("Grade")}</th>
            <th scope="col">{t("Price")}</th>
            <th scope="col">{t("Sold")}</th>
            <th scope="col">{t("Held")}</th>
            <th scope="col">{t("Available")}</th>
            <th scope="col">{t("Sold value")}</th>
          </tr>
        </thead>
        <tbody>
          {seats.data.grades.map((g) => (
            <tr key={g.grade}>
              <th scope="row">{g.grade}</th>
              <td>{money(g.price, currency)}</td>
              <td>{g.sold}</td>
              <td>{g.held}</td>
              <td>{g.available}</td>
              <td>{money(g.sold * g.price, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t("Live seat map")}</h2>
      <Legend map={map} currency={currency} />
      <SeatCanvas map={map} selected={new Set()} onPick={() => {}} readOnly label={t("Live seat map of the showtime")} />
      <h2>{t("Sales per day")}</h2>
      <SalesChart reservations={reservations} currency={currency} />
      <h2>{t("Reservations")}</h2>
      <ReservationTable items={reservations} />
      <h2>{t("Manage")}</h2>
      {show && show.status !== "CANCELLED" ? (
        <>
          {editing ? (
            <ShowtimeEditor
              performanceId={performanceId}
              showtime={show}
              onDone={() => {
                setEditing(false);
                void shows.reload();
              }}
            />
          ) : (
            <button type="button" onClick={() => setEditing(true)}>
              {t("Change time or venue")}
            </button>
          )}
          <WaitingRoomSettings performanceId={performanceId} showtimeId={showtimeId} on={show.waitingRoom ?? false} />
        </>
      ) : null}
      {show ? <CancelShowtime performanceId={performanceId} showtimeId={showtimeId} cancelled={show.status === "CANCELLED"} onCancelled={() => void shows.reload()} /> : null}
    </section>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="stat">
      <span className="muted">{label}</span>
      <strong data-testid={testId}>{value}</strong>
    </div>
  );
}

/** Confirmed sales per Korean calendar day, as bars (SVG, no chart library). */
function SalesChart({ reservations, currency }: { reservations: Reservation[]; currency: string }) {
  const { t, money } = useI18n();
  const days = useMemo(() => {
    const byDay = new Map<string, number>();
    for (const r of reservations) {
      if (r.status !== "CONFIRMED") continue;
      const day = new Date(new Date(r.createdAt).getTime() + 9 * 3600_000).toISOString().slice(0, 10);
      byDay.set(day, (byDay.get(day) ?? 0) + r.totalPrice);
    }
    return [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).slice(-30);
  }, [reservations]);
  if (!days.length) return <p className="muted">{t("No sales yet.")}</p>;
  const max = Math.max(...days.map(([, v]) => v));
  const w = 36;
  return (
    <figure>
      <svg width={days.length * w + 20} height={180} role="img" aria-label={t("Sales per day")}>
        {days.map(([day, value], i) => {
          const h = max ? Math.round((value / max) * 130) : 0;
          return (
            <g key={day} transform={`translate(${10 + i * w},0)`}>
              <title>{`${day}: ${money(value, currency)}`}</title>
              <rect x={4} y={150 - h} width={w - 8} height={h} fill="#7c3aed" />
              <text x={w / 2} y={168} fontSize={10} textAnchor="middle">
                {day.slice(5)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="sr-only">
        {days.map(([day, value]) => `${day}: ${money(value, currency)}`).join("; ")}
      </figcaption>
    </figure>
  );
}

export function ReservationTable({ items }: { items: Reservation[] }) {
  const { t, instant, money } = useI18n();
  if (!items.length) return <p className="muted">{t("No reservations yet.")}</p>;
  return (
    <table data-testid="reservations">
      <thead>
        <tr>
          <th scope="col">{t("When")}</th>
          <th scope="col">{t("Status")}</th>
          <th scope="col">{t("Seats")}</th>
          <th scope="col">{t("Total")}</th>
          <th scope="col">{t("Member")}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((r) => (
          <tr key={r.id} data-reservation-id={r.id}>
            <td>{instant(r.createdAt)}</td>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td>
                    <SeatList seats={r.seats} cancelled={r.cancelledSeats} />
                  </td>
            <td>{money(r.totalPrice, r.currency)}</td>
            <td>
              <code>{r.memberId.slice(0, 8)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WaitingRoomSettings({ performanceId, showtimeId, on }: { performanceId: string; showtimeId: string; on: boolean }) {
  const { t } = useI18n();
  const [form, setForm] = useState({ admitPerMinute: "", maxActive: "", admissionMinutes: "", abandonSeconds: "" });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [view, setView] = useState<Schemas["WaitingRoomView"] | null>(null);
  const opt = (s: string) => (s.trim() === "" ? null : Number(s));
  const save = async () => {
    const { data, error, response } = await api.PUT("/performances/{performanceId}/showtimes/{showtimeId}/waiting-room", {
      params: { path: { performanceId, showtimeId } },
      body: {
        admitPerMinute: opt(form.admitPerMinute),
        maxActive: opt(form.maxActive),
        admissionMinutes: opt(form.admissionMinutes),
        abandonSeconds: opt(form.abandonSeconds),
      },
    });
    if (!data) return setProblem(asProblem(error, response.status));
    setProblem(null);
    setView(data);
  };
  const set = (k: keyof typeof form) => (v: string) => setForm({ ...form, [k]: v });
  return (
    <details>
      <summary>
        {t("Waiting room")}: {on || view ? t("on") : t("off")}
      </summary>
      <ProblemBanner problem={problem} />
      {view ? (
        <p role="status">
          {t("On: {n} buyers let in per minute, at most {m} at once.", {
            n: view.settings.admitPerMinute,
            m: view.settings.maxActive,
          })}
        </p>
      ) : null}
      <div className="grid-form">
        <TextField label={t("Buyers let in per minute")} type="number" value={form.admitPerMinute} onChange={set("admitPerMinute")} hint={t("Default 4,800")} error={fieldError(problem, "admitPerMinute")} />
        <TextField label={t("Admitted at once, at most")} type="number" value={form.maxActive} onChange={set("maxActive")} hint={t("Default 2,000")} error={fieldError(problem, "maxActive")} />
        <TextField label={t("Admission good for (minutes)")} type="number" value={form.admissionMinutes} onChange={set("admissionMinutes")} hint={t("Default 10")} error={fieldError(problem, "admissionMinutes")} />
        <TextField label={t("Place lost after (seconds without polling)")} type="number" value={form.abandonSeconds} onChange={set("abandonSeconds")} hint={t("Default 120")} error={fieldError(problem, "abandonSeconds")} />
      </div>
      <button type="button" onClick={save}>
        {on || view ? t("Save the waiting room") : t("Switch the waiting room on")}
      </button>
    </details>
  );
}

function CancelShowtime(props: { performanceId: string; showtimeId: string; cancelled: boolean; onCancelled: () => void }) {
  const { t, money } = useI18n();
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [started, setStarted] = useState(props.cancelled);
  const progress = useApi(
    async () =>
      started
        ? api.GET("/performances/{performanceId}/showtimes/{showtimeId}/cancellation", {
            params: { path: { performanceId: props.performanceId, showtimeId: props.showtimeId } },
          })
        : { data: undefined, error: undefined, response: new Response(null, { status: 204 }) },
    [started, props.performanceId, props.showtimeId],
    started ? 1500 : undefined,
  );
  const cancel = async () => {
    if (!window.confirm(t("Cancel this showtime and refund every buyer in full?"))) return;
    const { data, error, response } = await api.POST("/performances/{performanceId}/showtimes/{showtimeId}/cancel", {
      params: { path: { performanceId: props.performanceId, showtimeId: props.showtimeId } },
      body: { reason },
    });
    if (!data) return setProblem(asProblem(error, response.status));
    setProblem(null);
    setStarted(true);
    props.onCancelled();
  };
  const p = progress.data;
  return (
    <section className="danger" aria-label={t("Cancel the showtime")}>
      <h3>{t("Cancel the showtime")}</h3>
      <ProblemBanner problem={problem} />
      {started ? (
        p ? (
          <div role="status" aria-live="polite" data-testid="sweep" data-status={p.status}>
            <p>
              {t("Cancellation")}: <StatusBadge status={p.status} /> 
            </p>
            <progress
              max={Math.max(1, p.total ?? 0, (p.cancelled ?? 0) + (p.released ?? 0) + (p.failed ?? 0))}
              value={(p.cancelled ?? 0) + (p.released ?? 0)}
            />
            <p>
              {t("{c} reservations cancelled ({r} refunded, {a} given back), {h} holds released, {f} failed", {
                c: p.cancelled ?? 0,
                r: p.refunded ?? 0,
                a: money(p.refundedAmount ?? 0),
                h: p.released ?? 0,
                f: p.failed ?? 0,
              })}
            </p>
          </div>
        ) : (
          <Loading />
        )
      ) : (
        <>
          <TextField label={t("Reason (shown to buyers)")} value={reason} onChange={setReason} error={fieldError(problem, "reason")} />
          <button type="button" className="danger" onClick={cancel}>
            {t("Cancel the showtime and refund everyone")}
          </button>
        </>
      )}
    </section>
  );
}
