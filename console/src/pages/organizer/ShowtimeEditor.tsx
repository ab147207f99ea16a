// A new showtime, or a change of one's time and venue: the seat-map editor (rows × cols, grades by row range
// with their prices) with a live preview drawn the way buyers will see it.
import { useMemo, useState } from "react";
import { api, asProblem, newKey, type Problem, type SeatMapView, type Showtime } from "../../api/client";
import { parseMap, SeatCanvas, Legend } from "../../components/SeatCanvas";
import { fieldError, ProblemBanner, TextField } from "../../components/ui";
import { seoulLocalToUtc, useI18n, utcToSeoulLocal } from "../../lib/i18n";

interface GradeRow {
  grade: string;
  fromRow: string;
  toRow: string;
  price: string;
}

const num = (s: string) => (s.trim() === "" || Number.isNaN(Number(s)) ? (s as unknown as number) : Number(s));

export function ShowtimeEditor(props: { performanceId: string; showtime?: Showtime; onDone: (s: Showtime) => void }) {
  const { t } = useI18n();
  const existing = props.showtime;
  const [startsAt, setStartsAt] = useState(
    existing ? utcToSeoulLocal(existing.startsAt) : `${utcToSeoulLocal(new Date(Date.now() + 40 * 86400_000).toISOString()).slice(0, 10)}T19:30`,
  );
  const [venueName, setVenueName] = useState(existing?.venueName ?? "");
  const [rows, setRows] = useState(String(existing?.seatMap.rows ?? 10));
  const [cols, setCols] = useState(String(existing?.seatMap.cols ?? 20));
  const [grades, setGrades] = useState<GradeRow[]>(
    existing
      ? existing.seatMap.grades.map((g) => ({
          grade: g.grade,
          fromRow: String(g.fromRow),
          toRow: String(g.toRow),
          price: String(g.price),
        }))
      : [
          { grade: "VIP", fromRow: "1", toRow: "3", price: "150000" },
          { grade: "R", fromRow: "4", toRow: "10", price: "90000" },
        ],
  );
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const err = (f: string) => fieldError(problem, f);

  // The preview: every seat available, coloured by its grade, as buyers will see it.
  const preview = useMemo(() => {
    const r = Number(rows);
    const c = Number(cols);
    if (!Number.isInteger(r) || !Number.isInteger(c) || r < 1 || c < 1 || r > 500 || c > 500) return null;
    const ranges = grades.map((g) => ({ ...g, from: Number(g.fromRow), to: Number(g.toRow), p: Number(g.price) }));
    const view: SeatMapView = {
      showtimeId: "preview",
      currency: "KRW",
      rows: r,
      cols: c,
      available: r * c,
      held: 0,
      sold: 0,
      grades: ranges.map((g) => ({ grade: g.grade || "?", price: g.p || 0, available: 0, held: 0, sold: 0 })),
      seatRows: Array.from({ length: r }, (_, i) => {
        const g = ranges.find((x) => i + 1 >= x.from && i + 1 <= x.to);
        return { row: i + 1, grade: g?.grade || "?", price: g?.p || 0, seats: "A".repeat(c) };
      }),
    };
    return parseMap(view);
  }, [rows, cols, grades]);
  const uncovered = useMemo(() => {
    const r = Number(rows);
    if (!Number.isInteger(r) || r < 1) return [];
    const out: number[] = [];
    for (let i = 1; i <= r; i++)
      if (!grades.some((g) => i >= Number(g.fromRow) && i <= Number(g.toRow))) out.push(i);
    return out;
  }, [rows, grades]);

  const save = async () => {
    setBusy(true);
    const body = {
      startsAt: seoulLocalToUtc(startsAt),
      venueName,
      seatMap: {
        rows: num(rows),
        cols: num(cols),
        grades: grades.map((g) => ({ grade: g.grade, fromRow: num(g.fromRow), toRow: num(g.toRow), price: num(g.price) })),
      },
    };
    const out = existing
      ? await api.PUT("/performances/{performanceId}/showtimes/{showtimeId}", {
          params: {
            path: { performanceId: props.performanceId, showtimeId: existing.id },
            header: { "If-Match": `"${existing.version}"` },
          },
          body,
        })
      : await api.POST("/performances/{performanceId}/showtimes", {
          params: { path: { performanceId: props.performanceId }, header: { "Idempotency-Key": newKey() } },
          body,
        });
    setBusy(false);
    if (!out.data) return setProblem(asProblem(out.error, out.response.status));
    props.onDone(out.data);
  };

  const setGrade = (i: number, k: keyof GradeRow, v: string) =>
    setGrades(grades.map((g, j) => (j === i ? { ...g, [k]: v } : g)));

  return (
    <div className="panel" aria-label={existing ? t("Change the showtime") : t("New showtime")} role="region">
      <h3>{existing ? t("Change the showtime") : t("New showtime")}</h3>
      <ProblemBanner problem={problem} />
      <div className="grid-form">
        <TextField
          label={t("Starts at (Korean time)")}
          type="datetime-local"
          value={startsAt}
          onChange={setStartsAt}
          error={err("startsAt")}
        />
        <TextField label={t("Hall")} value={venueName} onChange={setVenueName} error={err("venueName")} />
        <TextField label={t("Rows")} type="number" value={rows} onChange={setRows} error={err("seatMap.rows")} />
        <TextField label={t("Seats per row")} type="number" value={cols} onChange={setCols} error={err("seatMap.cols")} />
      </div>
      <fieldset>
        <legend>{t("Grades by rows")}</legend>
        {grades.map((g, i) => (
          <div className="row" key={i} data-testid={`grade-${i}`}>
            <TextField label={t("Grade")} value={g.grade} onChange={(v) => setGrade(i, "grade", v)} error={err(`seatMap.grades[${i}].grade`)} />
            <TextField label={t("From row")} type="number" value={g.fromRow} onChange={(v) => setGrade(i, "fromRow", v)} error={err(`seatMap.grades[${i}].fromRow`)} />
            <TextField label={t("To row")} type="number" value={g.toRow} onChange={(v) => setGrade(i, "toRow", v)} error={err(`seatMap.grades[${i}].toRow`)} />
            <TextField label={t("Price (KRW)")} type="number" value={g.price} onChange={(v) => setGrade(i, "price", v)} error={err(`seatMap.grades[${i}].price`)} />
            <button type="button" onClick={() => setGrades(grades.filter((_, j) => j !== i))} aria-label={t("Remove grade {n}", { n: i + 1 })}>
              ×
            </button>
          </div>
        ))}
        {err("seatMap.grades") ? <span className="field-error">{err("seatMap.grades")}</span> : null}
        <button
          type="button"
          onClick={() => setGrades([...grades, { grade: "", fromRow: String(uncovered[0] ?? ""), toRow: rows, price: "0" }])}
        >
          {t("Add a grade")}
        </button>
      </fieldset>
      {uncovered.length ? (
        <p className="notice" role="status">
          {t("Rows without a grade: {rows}", { rows: uncovered.slice(0, 20).join(", ") })}
        </p>
      ) : null}
      <h4>{t("Preview")}</h4>
      {preview ? (
        <>
          <Legend map={preview} currency="KRW" />
          <SeatCanvas map={preview} selected={new Set()} onPick={() => {}} readOnly label={t("Seat map preview")} />
        </>
      ) : (
        <p className="muted">{t("Rows and seats per row are 1 to 500.")}</p>
      )}
      <button type="button" className="primary" onClick={save} disabled={busy}>
        {existing ? t("Save the showtime") : t("Create the showtime")}
      </button>
    </div>
  );
}
