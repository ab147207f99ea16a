// Admins: reservations filtered by performance, showtime, member and status; each with its timeline from the
// audit log; cancel all or some seats, or move to other seats, with a reason and the fee waiver.
import { Fragment, useState } from "react";
import { api, asProblem, type Problem, type Reservation } from "../../api/client";
import { ChoiceFilter, fieldError, Loading, ProblemBanner, SeatList, StatusBadge, TextField } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

const STATUSES = ["HELD", "CONFIRMED", "CANCELLED", "EXPIRED", "FAILED"] as const;

export default function AdminReservations() {
  const { t, instant, money } = useI18n();
  const [filters, setFilters] = useState({ performanceId: "", showtimeId: "", memberId: "", status: "" });
  const [applied, setApplied] = useState(filters);
  const [open, setOpen] = useState<string | null>(null);
  const any = applied.performanceId || applied.showtimeId || applied.memberId;
  const list = useApi(
    async () =>
      any
        ? api.GET("/admin/reservations", {
            params: {
              query: {
                performanceId: applied.performanceId || undefined,
                showtimeId: applied.showtimeId || undefined,
                memberId: applied.memberId || undefined,
                status: (applied.status || undefined) as (typeof STATUSES)[number] | undefined,
                limit: 100,
              },
            },
          })
        : { data: { items: [] as Reservation[] }, error: undefined, response: new Response(null) },
    [applied],
  );
  const set = (k: keyof typeof filters) => (v: string) => setFilters({ ...filters, [k]: v });
  return (
    <section>
      <h1>{t("Reservations")}</h1>
      <form
        className="grid-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...filters });
        }}
      >
        <TextField label={t("Performance id")} value={filters.performanceId} onChange={set("performanceId")} error={fieldError(list.problem, "performanceId")} />
        <TextField label={t("Showtime id")} value={filters.showtimeId} onChange={set("showtimeId")} error={fieldError(list.problem, "showtimeId")} />
        <TextField label={t("Member id")} value={filters.memberId} onChange={set("memberId")} error={fieldError(list.problem, "memberId")} />
        <ChoiceFilter label={t("Status")} value={filters.status} options={STATUSES} onChange={set("status")} />
        <button type="submit" className="primary">
          {t("Search")}
        </button>
      </form>
      {!any ? <p className="muted">{t("Give a performance, a showtime or a member.")}</p> : null}
      <ProblemBanner problem={list.problem} />
      {list.loading ? <Loading /> : null}
      {list.data?.items.length ? (
        <table data-testid="admin-reservations">
          <thead>
            <tr>
              <th scope="col">{t("When")}</th>
              <th scope="col">{t("Status")}</th>
              <th scope="col">{t("Seats")}</th>
              <th scope="col">{t("Total")}</th>
              <th scope="col">{t("Member")}</th>
              <th scope="col">
                <span className="sr-only">{t("Details")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((r) => (
              <Fragment key={r.id}>
                <tr data-reservation-id={r.id}>
                  <td>{instant(r.createdAt)}</td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>
                    <SeatList seats={r.seats} cancelled={r.cancelledSeats} />
                  </td>
                  <td>{money(r.totalPrice, r.currency)}</td>
                  <td>
                    <code>{r.memberId}</code>
                  </td>
                  <td>
                    <button type="button" onClick={() => setOpen(open === r.id ? null : r.id)} aria-expanded={open === r.id}>
                      {t("Details")}
                    </button>
                  </td>
                </tr>
                {open === r.id ? (
                  <tr>
                    <td colSpan={6}>
                      <AdminReservation reservation={r} onChanged={() => void list.reload()} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      ) : any && list.data ? (
        <p className="muted">{t("Nothing here.")}</p>
      ) : null}
    </section>
  );
}

function AdminReservation({ reservation: r, onChanged }: { reservation: Reservation; onChanged: () => void }) {
  const { t, instant, money } = useI18n();
  const audit = useApi(
    () => api.GET("/admin/audit", { params: { query: { reservationId: r.id, limit: 100 } } }),
    [r.id],
  );
  const [reason, setReason] = useState("");
  const [waive, setWaive] = useState(false);
  const [seats, setSeats] = useState("");
  const [move, setMove] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  const parse = (s: string) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean)
      .map((x) => {
        const [row, col] = x.split("-").map(Number);
        return { row, col };
      });
  const act = async (what: "cancel" | "move") => {
    setProblem(null);
    const out =
      what === "move"
        ? await api.PUT("/reservations/{reservationId}", {
            params: { path: { reservationId: r.id } },
            body: { seats: parse(move), reason: reason || undefined },
          })
        : seats.trim()
          ? await api.POST("/reservations/{reservationId}/cancellations", {
              params: { path: { reservationId: r.id }, header: { Prefer: "wait=10" } },
              body: { seats: parse(seats), reason, waiveFee: waive },
            })
          : await api.DELETE("/reservations/{reservationId}", {
              params: { path: { reservationId: r.id }, header: { Prefer: "wait=10" } },
              body: { reason, waiveFee: waive },
            });
    if (!out.data) return setProblem(asProblem(out.error, out.response.status));
    setDone(what === "move" ? t("Moved.") : t("Cancellation made."));
    onChanged();
    void audit.reload();
  };
  return (
    <div className="panel">
      <h3>{t("Timeline")}</h3>
      {audit.data ? (
        <ol className="timeline">
          {audit.data.items.map((e) => (
            <li key={e.eventId}>
              <time dateTime={e.occurredAt}>{instant(e.occurredAt)}</time> <strong>{t(e.type)}</strong>{" "}
              {typeof (e.data as { amount?: number }).amount === "number"
                ? money((e.data as { amount: number }).amount, r.currency)
                : ""}
            </li>
          ))}
        </ol>
      ) : (
        <ProblemBanner problem={audit.problem} />
      )}
      {r.status === "CONFIRMED" || r.status === "HELD" ? (
        <>
          <h3>{t("Change or cancel")}</h3>
          <ProblemBanner problem={problem} />
          {done ? <p role="status">{done}</p> : null}
          <TextField label={t("Reason")} value={reason} onChange={setReason} error={fieldError(problem, "reason")} />
          <TextField
            label={t("Seats to cancel (row-col, comma-separated; empty: all)")}
            value={seats}
            onChange={setSeats}
          />
          <label>
            <input type="checkbox" checked={waive} onChange={(e) => setWaive(e.target.checked)} /> {t("Waive the fee")}
          </label>{" "}
          <button type="button" className="danger" onClick={() => act("cancel")}>
            {t("Cancel")}
          </button>
          <TextField label={t("Move to seats (row-col, comma-separated)")} value={move} onChange={setMove} />
          <button type="button" onClick={() => act("move")}>
            {t("Move")}
          </button>
        </>
      ) : null}
    </div>
  );
}
