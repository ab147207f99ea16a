// Small building blocks every page uses: problem banners, labelled fields, loading states.
import { useId, type ReactNode } from "react";
import type { Problem } from "../api/client";
import { useI18n } from "../lib/i18n";

/** A problem answer as a person reads it: the title, the detail, and each field's message. */
export function ProblemBanner({ problem }: { problem: Problem | null | undefined }) {
  const { t } = useI18n();
  if (!problem) return null;
  // A ticket limit says its counts in the reader's language, in place of the server's English detail (which
  // says the same: shown both, the counts read twice).
  const ticketLimit = problem.limit != null && problem.type.endsWith("/ticket-limit");
  return (
    <div className="problem" role="alert" data-problem-type={problem.type}>
      <strong>{t(problem.title)}</strong>
      {problem.detail && problem.detail !== problem.title && !ticketLimit ? <div>{problem.detail}</div> : null}
      {problem.code ? <div className="code">{t("Reason")}: {t(problem.code)}</div> : null}
      {ticketLimit ? (
        <div>
          {t("You have {current} of at most {limit} tickets for this showtime", {
            current: problem.current ?? 0,
            limit: problem.limit ?? 0,
          })}
        </div>
      ) : null}
      {problem.errors?.length ? (
        <ul>
          {problem.errors.map((e) => (
            <li key={e.field + e.message}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The message a problem has for one field (`title`, `seatMap.grades[0].price`...). */
export function fieldError(problem: Problem | null | undefined, field: string): string | undefined {
  return problem?.errors?.find((e) => e.field === field)?.message;
}

export function Field(props: {
  label: string;
  error?: string;
  hint?: string;
  children: (id: string, describedBy: string | undefined) => ReactNode;
}) {
  const id = useId();
  const errId = `${id}-err`;
  return (
    <div className={props.error ? "field invalid" : "field"}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, props.error ? errId : undefined)}
      {props.hint ? <small>{props.hint}</small> : null}
      {props.error ? (
        <span className="field-error" id={errId} role="alert">
          {props.error}
        </span>
      ) : null}
    </div>
  );
}

export function TextField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  type?: string;
  hint?: string;
  required?: boolean;
  min?: number;
  max?: number;
  name?: string;
  autoComplete?: string;
}) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {(id, describedBy) => (
        <input
          id={id}
          name={props.name}
          type={props.type ?? "text"}
          value={props.value}
          required={props.required}
          min={props.min}
          max={props.max}
          autoComplete={props.autoComplete}
          aria-invalid={props.error ? true : undefined}
          aria-describedby={describedBy}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" aria-live="polite">
      {t("Loading…")}
    </p>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const { t } = useI18n();
  return <span className={`badge badge-${status.toLowerCase()}`}>{t(status)}</span>;
}

/** A filter among a few values, "All" first (the empty value). */
export function ChoiceFilter(props: { label: string; value: string; options: readonly string[]; onChange: (v: string) => void }) {
  const { t } = useI18n();
  return (
    <Field label={props.label}>
      {(id) => (
        <select id={id} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
          <option value="">{t("All")}</option>
          {props.options.map((s) => (
            <option key={s} value={s}>
              {t(s)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A reservation's seats as `row-col`; once every seat is cancelled, the cancelled ones, struck through. */
export function SeatList({ seats, cancelled }: { seats: { row: number; col: number }[]; cancelled?: { row: number; col: number }[] }) {
  const text = (list: { row: number; col: number }[]) => list.map((s) => `${s.row}-${s.col}`).join(", ");
  if (seats.length || !cancelled?.length) return <>{text(seats)}</>;
  return <s>{text(cancelled)}</s>;
}
