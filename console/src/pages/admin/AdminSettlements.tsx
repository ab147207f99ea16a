// Admins: statements to pay (CLOSED by default) or one organizer's, and the payout recorded once with the
// transfer's reference.
import { useState } from "react";
import { api, asProblem, type Problem, type Schemas } from "../../api/client";
import { ChoiceFilter, fieldError, Loading, ProblemBanner, TextField } from "../../components/ui";
import { koreanDay, useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";
import { StatementTable } from "../organizer/Settlements";

const STATUSES = ["OPEN", "CLOSED", "PAID"] as const;


function Payout({ st, done }: { st: Schemas["Statement"]; done: (paid: Schemas["Statement"]) => void }) {
  const { t } = useI18n();
  const [reference, setReference] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  if (st.status === "PAID") return <span className="muted">{st.payoutReference}</span>;
  if (st.status !== "CLOSED") return <span className="muted">{t("Not closed yet")}</span>;
  return (
    <form
      className="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const { data, error, response } = await api.POST("/admin/settlements/{settlementId}/payout", {
          params: { path: { settlementId: st.settlementId } },
          body: { reference },
        });
        if (data) {
          setProblem(null);
          done(data);
        } else setProblem(asProblem(error, response.status));
      }}
    >
      <TextField label={t("Transfer reference")} value={reference} onChange={setReference} error={fieldError(problem, "reference")} />
      <button type="submit" className="primary">
        {t("Record payout")}
      </button>
      <ProblemBanner problem={problem && !problem.errors?.length ? problem : null} />
    </form>
  );
}

export default function AdminSettlements() {
  const { t } = useI18n();
  const [filters, setFilters] = useState({ status: "CLOSED", organizerId: "", from: koreanDay(-30), to: koreanDay() });
  const [applied, setApplied] = useState(filters);
  const list = useApi(
    () =>
      api.GET("/admin/settlements", {
        params: {
          query: {
            status: (applied.status || undefined) as (typeof STATUSES)[number] | undefined,
            organizerId: applied.organizerId || undefined,
            from: applied.from,
            to: applied.to,
            limit: 100,
          },
        },
      }),
    [applied],
  );
  // Payouts recorded here stay on the page (paid) until the next search, whatever the status filter.
  const [paid, setPaid] = useState<Record<string, Schemas["Statement"]>>({});
  const set = (k: keyof typeof filters) => (v: string) => setFilters({ ...filters, [k]: v });
  return (
    <section>
      <h1>{t("Payouts")}</h1>
      <form
        className="grid-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...filters });
          setPaid({});
        }}
      >
        <ChoiceFilter label={t("Status")} value={filters.status} options={STATUSES} onChange={set("status")} />
        <TextField label={t("Organizer id")} value={filters.organizerId} onChange={set("organizerId")} error={fieldError(list.problem, "organizerId")} />
        <TextField label={t("From (Korean day)")} type="date" value={filters.from} onChange={set("from")} />
        <TextField label={t("To (Korean day)")} type="date" value={filters.to} onChange={set("to")} />
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
        <StatementTable
          items={list.data.items.map((st) => paid[st.settlementId] ?? st)}
          actions={(st) => <Payout st={st} done={(p) => setPaid({ ...paid, [p.settlementId]: p })} />}
        />
      )}
    </section>
  );
}
