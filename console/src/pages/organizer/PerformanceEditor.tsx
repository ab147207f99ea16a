// Create or edit a performance (every field, the refund-policy tiers too), see its review state, and manage
// its showtimes: add one with the seat-map editor, switch its waiting room on, open its dashboard.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { api, asProblem, newKey, type Category, type Performance, type PerformanceInput, type Problem } from "../../api/client";
import { fieldError, Loading, ProblemBanner, StatusBadge, TextField, Field } from "../../components/ui";
import { seoulLocalToUtc, useI18n, utcToSeoulLocal } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";
import { CATEGORIES } from "../buyer/Catalog";
import { ShowtimeEditor } from "./ShowtimeEditor";

const AGES = ["ALL", "7+", "12+", "15+", "18+"] as const;

interface Form {
  title: string;
  description: string;
  category: Category;
  ageRating: (typeof AGES)[number];
  venueName: string;
  venueCity: string;
  venueAddress: string;
  runningTimeMinutes: string;
  runStartDate: string;
  runEndDate: string;
  saleOpensAt: string;
  saleClosesAt: string;
  holdMinutes: string;
  maxTicketsPerMember: string;
  posterUrl: string;
  tiers: { daysBefore: string; feePercent: string }[];
  graceHours: string;
  graceMinDaysBefore: string;
}

const DEFAULT_TIERS = [
  { daysBefore: "10", feePercent: "0" },
  { daysBefore: "9", feePercent: "10" },
  { daysBefore: "6", feePercent: "20" },
  { daysBefore: "2", feePercent: "30" },
];

function emptyForm(): Form {
  const now = new Date();
  const day = (n: number) => new Date(now.getTime() + n * 24 * 3600_000);
  const later = day(60);
  return {
    title: "",
    description: "",
    category: "CONCERT",
    ageRating: "ALL",
    venueName: "",
    venueCity: "Seoul",
    venueAddress: "",
    runningTimeMinutes: "120",
    runStartDate: day(30).toISOString().slice(0, 10),
    runEndDate: later.toISOString().slice(0, 10),
    saleOpensAt: utcToSeoulLocal(now.toISOString()),
    saleClosesAt: utcToSeoulLocal(later.toISOString()),
    holdMinutes: "10",
    maxTicketsPerMember: "",
    posterUrl: "",
    tiers: DEFAULT_TIERS,
    graceHours: "0",
    graceMinDaysBefore: "0",
  };
}

function fromPerformance(p: Performance): Form {
  return {
    title: p.title,
    description: p.description,
    category: p.category,
    ageRating: p.ageRating,
    venueName: p.venue.name,
    venueCity: p.venue.city,
    venueAddress: p.venue.address ?? "",
    runningTimeMinutes: String(p.runningTimeMinutes),
    runStartDate: p.runStartDate,
    runEndDate: p.runEndDate,
    saleOpensAt: utcToSeoulLocal(p.saleOpensAt),
    saleClosesAt: utcToSeoulLocal(p.saleClosesAt),
    holdMinutes: String(p.holdMinutes),
    maxTicketsPerMember: p.maxTicketsPerMember == null ? "" : String(p.maxTicketsPerMember),
    posterUrl: p.posterUrl ?? "",
    tiers: p.refundPolicy
      ? p.refundPolicy.tiers.map((x) => ({ daysBefore: String(x.daysBefore), feePercent: String(x.feePercent) }))
      : DEFAULT_TIERS,
    graceHours: String(p.refundPolicy?.graceHours ?? 0),
    graceMinDaysBefore: String(p.refundPolicy?.graceMinDaysBefore ?? 0),
  };
}

const int = (s: string) => (s.trim() === "" || Number.isNaN(Number(s)) ? (s as unknown as number) : Number(s));

function toInput(f: Form): PerformanceInput {
  return {
    title: f.title,
    description: f.description,
    category: f.category,
    ageRating: f.ageRating,
    venue: { name: f.venueName, city: f.venueCity, address: f.venueAddress || null },
    runningTimeMinutes: int(f.runningTimeMinutes),
    runStartDate: f.runStartDate,
    runEndDate: f.runEndDate,
    saleOpensAt: seoulLocalToUtc(f.saleOpensAt),
    saleClosesAt: seoulLocalToUtc(f.saleClosesAt),
    holdMinutes: int(f.holdMinutes),
    maxTicketsPerMember: f.maxTicketsPerMember.trim() === "" ? null : int(f.maxTicketsPerMember),
    posterUrl: f.posterUrl || null,
    refundPolicy: {
      tiers: f.tiers.map((x) => ({ daysBefore: int(x.daysBefore), feePercent: int(x.feePercent) })),
      graceHours: int(f.graceHours),
      graceMinDaysBefore: int(f.graceMinDaysBefore),
    },
  };
}

export default function PerformanceEditor({ performanceId }: { performanceId?: string }) {
  const { t, instant } = useI18n();
  const [, navigate] = useLocation();
  const [form, setForm] = useState<Form | null>(performanceId ? null : emptyForm());
  const [perf, setPerf] = useState<Performance | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!performanceId) return;
    void (async () => {
      const { data, error, response } = await api.GET("/performances/{performanceId}", {
        params: { path: { performanceId } },
      });
      if (!data) return setProblem(asProblem(error, response.status));
      setPerf(data);
      setForm(fromPerformance(data));
    })();
  }, [performanceId]);

  if (!form) return problem ? <ProblemBanner problem={problem} /> : <Loading />;
  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setForm({ ...form, [k]: v });
  const err = (f: string) => fieldError(problem, f);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaved("");
    const body = toInput(form);
    const out = perf
      ? await api.PUT("/performances/{performanceId}", {
          params: { path: { performanceId: perf.id }, header: { "If-Match": `"${perf.version}"` } },
          body,
        })
      : await api.POST("/performances", { params: { header: { "Idempotency-Key": newKey() } }, body });
    setBusy(false);
    if (!out.data) return setProblem(asProblem(out.error, out.response.status));
    setProblem(null);
    setPerf(out.data);
    setSaved(perf ? t("Saved.") : t("Created. It is waiting for an admin's approval."));
    if (!perf) navigate(`/organizer/performances/${out.data.id}`, { replace: true });
  };

  return (
    <section>
      <p>
        <Link href="/organizer">← {t("My performances")}</Link>
      </p>
      <h1>{perf ? perf.title : t("New performance")}</h1>
      {perf ? (
        <p data-testid="review-state">
          {t("Review")}: <StatusBadge status={perf.status} />
          {perf.rejectionReason ? (
            <span className="problem-inline" data-testid="rejection-reason">
              {" "}
              {t("Rejected because")}: {perf.rejectionReason}. {t("Edit and save to resubmit it.")}
            </span>
          ) : null}
          {perf.reviewedAt ? <span className="muted"> · {instant(perf.reviewedAt)}</span> : null}
        </p>
      ) : null}
      {saved ? (
        <p className="notice" role="status">
          {saved}
        </p>
      ) : null}
      <ProblemBanner problem={problem} />
      <form onSubmit={submit} noValidate className="grid-form">
        <TextField label={t("Title")} value={form.title} onChange={set("title")} error={err("title")} />
        <Field label={t("Description")} error={err("description")}>
          {(id, d) => (
            <textarea id={id} aria-describedby={d} value={form.description} onChange={(e) => set("description")(e.target.value)} />
          )}
        </Field>
        <Field label={t("Category")} error={err("category")}>
          {(id) => (
            <select id={id} value={form.category} onChange={(e) => set("category")(e.target.value as Category)}>
              {CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {t(c)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("Age rating")} error={err("ageRating")}>
          {(id) => (
            <select id={id} value={form.ageRating} onChange={(e) => set("ageRating")(e.target.value as Form["ageRating"])}>
              {AGES.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField label={t("Venue")} value={form.venueName} onChange={set("venueName")} error={err("venue.name")} />
        <TextField label={t("City")} value={form.venueCity} onChange={set("venueCity")} error={err("venue.city")} />
        <TextField
          label={t("Address")}
          value={form.venueAddress}
          onChange={set("venueAddress")}
          error={err("venue.address")}
        />
        <TextField
          label={t("Running time (minutes)")}
          type="number"
          value={form.runningTimeMinutes}
          onChange={set("runningTimeMinutes")}
          error={err("runningTimeMinutes")}
        />
        <TextField
          label={t("First day")}
          type="date"
          value={form.runStartDate}
          onChange={set("runStartDate")}
          error={err("runStartDate")}
        />
        <TextField
          label={t("Last day")}
          type="date"
          value={form.runEndDate}
          onChange={set("runEndDate")}
          error={err("runEndDate")}
        />
        <TextField
          label={t("Sale opens (Korean time)")}
          type="datetime-local"
          value={form.saleOpensAt}
          onChange={set("saleOpensAt")}
          error={err("saleOpensAt") ?? err("saleWindow.opensAt")}
        />
        <TextField
          label={t("Sale closes (Korean time)")}
          type="datetime-local"
          value={form.saleClosesAt}
          onChange={set("saleClosesAt")}
          error={err("saleClosesAt") ?? err("saleWindow.closesAt")}
        />
        <TextField
          label={t("Hold time (minutes)")}
          type="number"
          value={form.holdMinutes}
          onChange={set("holdMinutes")}
          error={err("holdMinutes")}
        />
        <TextField
          label={t("Tickets per member for each showtime (empty: no limit)")}
          type="number"
          value={form.maxTicketsPerMember}
          onChange={set("maxTicketsPerMember")}
          error={err("maxTicketsPerMember")}
        />
        <TextField
          label={t("Poster URL (https)")}
          value={form.posterUrl}
          onChange={set("posterUrl")}
          error={err("posterUrl")}
        />
        <fieldset className="tiers">
          <legend>{t("Cancellation fees")}</legend>
          {form.tiers.map((tier, i) => (
            <div key={i} className="row">
              <TextField
                label={t("From days before the show")}
                type="number"
                value={tier.daysBefore}
                onChange={(v) => set("tiers")(form.tiers.map((x, j) => (j === i ? { ...x, daysBefore: v } : x)))}
                error={err(`refundPolicy.tiers[${i}].daysBefore`)}
              />
              <TextField
                label={t("Fee (%)")}
                type="number"
                value={tier.feePercent}
                onChange={(v) => set("tiers")(form.tiers.map((x, j) => (j === i ? { ...x, feePercent: v } : x)))}
                error={err(`refundPolicy.tiers[${i}].feePercent`)}
              />
              <button
                type="button"
                onClick={() => set("tiers")(form.tiers.filter((_, j) => j !== i))}
                aria-label={t("Remove tier {n}", { n: i + 1 })}
              >
                ×
              </button>
            </div>
          ))}
          {err("refundPolicy.tiers") ? <span className="field-error">{err("refundPolicy.tiers")}</span> : null}
          <button type="button" onClick={() => set("tiers")([...form.tiers, { daysBefore: "1", feePercent: "50" }])}>
            {t("Add a tier")}
          </button>
          <TextField
            label={t("Free cancellation within (hours of booking)")}
            type="number"
            value={form.graceHours}
            onChange={set("graceHours")}
            error={err("refundPolicy.graceHours")}
          />
          <TextField
            label={t("… if the show is at least (days away)")}
            type="number"
            value={form.graceMinDaysBefore}
            onChange={set("graceMinDaysBefore")}
            error={err("refundPolicy.graceMinDaysBefore")}
          />
        </fieldset>
        <button type="submit" className="primary" disabled={busy}>
          {perf ? t("Save changes") : t("Create performance")}
        </button>
      </form>
      {perf ? <Showtimes performance={perf} /> : null}
      {perf ? <CancelPerformance performance={perf} /> : null}
    </section>
  );
}

function Showtimes({ performance }: { performance: Performance }) {
  const { t, instant } = useI18n();
  const list = useApi(
    () =>
      api.GET("/performances/{performanceId}/showtimes", {
        params: { path: { performanceId: performance.id }, query: { limit: 100 } },
      }),
    [performance.id],
  );
  const [adding, setAdding] = useState(false);
  return (
    <section>
      <h2>{t("Showtimes")}</h2>
      <ProblemBanner problem={list.problem} />
      {list.data ? (
        list.data.items.length ? (
          <ul className="list">
            {list.data.items.map((s) => (
              <li key={s.id}>
                <Link href={`/organizer/performances/${performance.id}/showtimes/${s.id}`}>
                  {instant(s.startsAt)} · {s.venueName}
                </Link>{" "}
                <StatusBadge status={s.status} />
                {s.waitingRoom ? <span className="badge">{t("waiting room")}</span> : null}
                <span className="muted">
                  {" "}
                  · {t("{n} seats", { n: s.seatMap.rows * s.seatMap.cols })}
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">{t("No showtimes yet.")}</p>
        )
      ) : (
        <Loading />
      )}
      {adding ? (
        <ShowtimeEditor
          performanceId={performance.id}
          onDone={() => {
            setAdding(false);
            void list.reload();
          }}
        />
      ) : (
        <button type="button" className="primary" onClick={() => setAdding(true)}>
          {t("Add a showtime")}
        </button>
      )}
    </section>
  );
}

function CancelPerformance({ performance }: { performance: Performance }) {
  const { t } = useI18n();
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  const cancel = async () => {
    if (!window.confirm(t("Cancel every showtime of this performance and refund every buyer?"))) return;
    const { data, error, response } = await api.POST("/performances/{performanceId}/cancel", {
      params: { path: { performanceId: performance.id } },
      body: { reason },
    });
    if (!data) return setProblem(asProblem(error, response.status));
    setDone(true);
  };
  return (
    <details className="danger">
      <summary>{t("Cancel the performance")}</summary>
      <ProblemBanner problem={problem} />
      {done ? (
        <p role="status">{t("Cancelling every showtime: open each showtime to watch its progress.")}</p>
      ) : (
        <>
          <TextField label={t("Reason (shown to buyers)")} value={reason} onChange={setReason} error={fieldError(problem, "reason")} />
          <button type="button" className="danger" onClick={cancel}>
            {t("Cancel the performance")}
          </button>
        </>
      )}
    </details>
  );
}
