// Admins: payments filtered by status, period, member and performance, with what was refunded.
import { useState } from "react";
import { api } from "../../api/client";
import { ChoiceFilter, fieldError, Loading, ProblemBanner, StatusBadge, TextField } from "../../components/ui";
import { seoulLocalToUtc, useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

const STATUSES = ["WAITING", "COMPLETED", "FAILED", "CANCELED", "PART_CANCELED"] as const;

export default function AdminPayments() {
  const { t, instant, money } = useI18n();
  const [filters, setFilters] = useState({ status: "", memberId: "", performanceId: "", from: "", to: "" });
  const [applied, setApplied] = useState(filters);
  const list = useApi(
    () =>
      api.GET("/admin/payments", {
        params: {
          query: {
            status: (applied.status || undefined) as (typeof STATUSES)[number] | undefined,
            memberId: applied.memberId || undefined,
            performanceId: applied.performanceId || undefined,
            from: applied.from ? seoulLocalToUtc(applied.from) : undefined,
            to: applied.to ? seoulLocalToUtc(applied.to) : undefined,
            limit: 100,
          },
        },
      }),
    [applied],
    10000,
  );
  const set = (k: keyof typeof filters) => (v: string) => setFilters({ ...filters, [k]: v });
  return (
    <section>
      <h1>{t("Payments")}</h1>
      <form
        className="grid-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...filters });
        }}
      >
        <ChoiceFilter label={t("Status")} value={filters.status} options={STATUSES} onChange={set("status")} />
        <TextField label={t("Member id")} value={filters.memberId} onChange={set("memberId")} error={fieldError(list.problem, "memberId")} />
        <TextField label={t("Performance id")} value={filters.performanceId} onChange={set("performanceId")} error={fieldError(list.problem, "performanceId")} />
        <TextField label={t("From (Korean time)")} type="datetime-local" value={filters.from} onChange={set("from")} />
        <TextField label={t("To (Korean time)")} type="datetime-local" value={filters.to} onChange={set("to")} />
        <button type="submit" className="primary">
          {t("Search")}
        </button>
      </form>
      <ProblemBanner problem={list.problem} />
      {!list.data ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <p className="muted">{t("Nothing here.")}</p>
      ) : (
        <table data-testid="payments">
          <thead>
            <tr>
              <th scope="col">{t("When")}</th>
              <th scope="col">{t("Status")}</th>
              <th scope="col">{t("Method")}</th>
              <th scope="col">{t("Amount")}</th>
              <th scope="col">{t("Refunded")}</th>
              <th scope="col">{t("Reservation")}</th>
              <th scope="col">{t("Member")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((p) => (
              <tr key={p.id} data-reservation-id={p.reservationId} data-status={p.status}>
                <td>{instant(p.createdAt)}</td>
                <td>
                  <StatusBadge status={p.status} />
                  {p.failureReason ? <div className="muted">{t(p.failureReason)}</div> : null}
                </td>
                <td>
                  {t(p.method)}
                  {p.card ? ` · ${p.card.brand} ${p.card.last4}` : ""}
                </td>
                <td>{money(p.amount, p.currency)}</td>
                <td data-testid="refunded">{money(p.refundedAmount, p.currency)}</td>
                <td>
                  <code>{p.reservationId}</code>
                </td>
                <td>
                  <code>{p.memberId.slice(0, 8)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
