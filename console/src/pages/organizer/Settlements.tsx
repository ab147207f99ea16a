// Organizers: what they are owed, one statement per Korean day and currency (docs/settlement.md); a statement's
// lines per showtime, its adjustments, and its lines as CSV.
import { useState } from "react";
import { Link } from "wouter";
import { api, asProblem, type Schemas } from "../../api/client";
import { Loading, ProblemBanner, StatusBadge, TextField } from "../../components/ui";
import { koreanDay, useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

type Statement = Schemas["Statement"];


/** The totals row of a statement, as every table here shows it. */
export function Figures({ st }: { st: Statement }) {
  const { money } = useI18n();
  const t = st.totals;
  const cell = (v: number | undefined) => (v === undefined ? "—" : money(v, st.currency));
  return (
    <>
      <td>{cell(t?.gross)}</td>
      <td>{cell(t?.refunds)}</td>
      <td>{cell(t?.feesKept)}</td>
      <td>{cell(t?.commission)}</td>
      <td data-testid="net-payable">
        <strong>{cell(t?.netPayable)}</strong>
      </td>
    </>
  );
}

export default function Settlements() {
  const { t } = useI18n();
  const [filters, setFilters] = useState({ from: koreanDay(-30), to: koreanDay() });
  const [applied, setApplied] = useState(filters);
  const list = useApi(
    () => api.GET("/organizer/settlements", { params: { query: { from: applied.from, to: applied.to, limit: 100 } } }),
    [applied],
  );
  return (
    <section>
      <h1>{t("Settlements")}</h1>
      <p className="muted">
        {t("One statement per Korean day with sales. It closes the next night; money that arrives later is an adjustment on the next open statement.")}
      </p>
      <form
        className="grid-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...filters });
        }}
      >
        <TextField label={t("From (Korean day)")} type="date" value={filters.from} onChange={(v) => setFilters({ ...filters, from: v })} />
        <TextField label={t("To (Korean day)")} type="date" value={filters.to} onChange={(v) => setFilters({ ...filters, to: v })} />
        <button type="submit" className="primary">
          {t("Search")}
        </button>
      </form>
      <ProblemBanner problem={list.problem} />
      {!list.data ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <p className="muted">{t("No statement in these days.")}</p>
      ) : (
        <StatementTable items={list.data.items} />
      )}
    </section>
  );
}

export function StatementTable({ items, actions }: { items: Statement[]; actions?: (st: Statement) => React.ReactNode }) {
  const { t } = useI18n();
  return (
    <table data-testid="statements">
      <thead>
        <tr>
          <th scope="col">{t("Day")}</th>
          <th scope="col">{t("Status")}</th>
          <th scope="col">{t("Gross")}</th>
          <th scope="col">{t("Refunds")}</th>
          <th scope="col">{t("Fees kept")}</th>
          <th scope="col">{t("Commission")}</th>
          <th scope="col">{t("Net payable")}</th>
          {actions ? <th scope="col">{t("Payout")}</th> : null}
        </tr>
      </thead>
      <tbody>
        {items.map((st) => (
          <tr key={st.settlementId} data-settlement-id={st.settlementId} data-status={st.status}>
            <td>
              <Link href={`/organizer/settlements/${st.settlementId}`}>
                {st.day} · {st.currency}
              </Link>
            </td>
            <td>
              <StatusBadge status={st.status} />
            </td>
            <Figures st={st} />
            {actions ? <td>{actions(st)}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SettlementPage({ settlementId }: { settlementId: string }) {
  const { t, money, instant } = useI18n();
  const st = useApi(() => api.GET("/organizer/settlements/{settlementId}", { params: { path: { settlementId } } }), [settlementId]);
  const [csvProblem, setCsvProblem] = useState<ReturnType<typeof asProblem> | null>(null);
  const download = async () => {
    const { data, error, response } = await api.GET("/organizer/settlements/{settlementId}", {
      params: { path: { settlementId } },
      headers: { accept: "text/csv" },
      parseAs: "text",
    });
    if (data === undefined) {
      setCsvProblem(asProblem(error, response.status));
      return;
    }
    setCsvProblem(null);
    const url = URL.createObjectURL(new Blob([data as unknown as string], { type: "text/csv" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `settlement-${settlementId}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
  };
  if (!st.data) return st.problem ? <ProblemBanner problem={st.problem} /> : <Loading />;
  // JSON unless the request asks for CSV (the download below).
  const s = st.data as Statement;
  return (
    <section>
      <p>
        <Link href="/organizer/settlements">{t("Back")}</Link>
      </p>
      <h1>
        {t("Statement")} {s.day} · {s.currency}
      </h1>
      <p>
        <StatusBadge status={s.status} />{" "}
        {s.status === "OPEN"
          ? t("Open: its figures so far.")
          : s.status === "CLOSED"
            ? t("Closed {at}: its figures no longer change.", { at: instant(s.closedAt) })
            : t("Paid {at}, reference {reference}.", { at: instant(s.paidAt), reference: s.payoutReference ?? "" })}{" "}
        {t("Commission rate: {rate}%", { rate: ((s.commissionRateBps ?? 0) / 100).toString() })}
      </p>
      <button type="button" onClick={download}>
        {t("Download CSV")}
      </button>
      <ProblemBanner problem={csvProblem} />
      <table data-testid="lines">
        <thead>
          <tr>
            <th scope="col">{t("Showtime")}</th>
            <th scope="col">{t("Gross")}</th>
            <th scope="col">{t("Refunds")}</th>
            <th scope="col">{t("Fees kept")}</th>
            <th scope="col">{t("Commission")}</th>
            <th scope="col">{t("Net payable")}</th>
          </tr>
        </thead>
        <tbody>
          {(s.lines ?? []).map((l) => (
            <tr
              key={`${l.showtimeId}-${l.adjustmentOf?.eventId ?? ""}`}
              data-showtime-id={l.showtimeId}
              data-adjustment={l.adjustmentOf ? "yes" : "no"}
            >
              <td>
                <code>{l.showtimeId.slice(0, 8)}</code>
                {l.adjustmentOf ? (
                  <div className="muted">
                    {t("Adjustment for {day} ({event})", { day: l.adjustmentOf.day, event: l.adjustmentOf.eventId.split(":")[1] ?? "" })}
                  </div>
                ) : null}
              </td>
              <td>{money(l.gross, s.currency)}</td>
              <td>{money(l.refunds, s.currency)}</td>
              <td>{money(l.feesKept, s.currency)}</td>
              <td>{money(l.commission, s.currency)}</td>
              <td>{money(l.netPayable, s.currency)}</td>
            </tr>
          ))}
        </tbody>
        {s.totals ? (
          <tfoot>
            <tr data-testid="totals">
              <th scope="row">{t("Total")}</th>
              <Figures st={s} />
            </tr>
          </tfoot>
        ) : null}
      </table>
    </section>
  );
}
