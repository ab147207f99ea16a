// The review queue: performances waiting for approval; approve, or reject with a reason the organizer sees.
import { useState } from "react";
import { Link } from "wouter";
import { api, asProblem, type Performance, type Problem } from "../../api/client";
import { fieldError, Loading, ProblemBanner, StatusBadge, TextField } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";

type Status = "PENDING_APPROVAL" | "APPROVED" | "REJECTED";

export default function ReviewQueue() {
  const { t } = useI18n();
  const [status, setStatus] = useState<Status>("PENDING_APPROVAL");
  const list = useApi(
    () => api.GET("/admin/performances", { params: { query: { status, limit: 100 } } }),
    [status],
    10000,
  );
  return (
    <section>
      <h1>{t("Review queue")}</h1>
      <div className="filters" role="group" aria-label={t("Review state")}>
        {(["PENDING_APPROVAL", "APPROVED", "REJECTED"] as Status[]).map((s) => (
          <button type="button" key={s} aria-pressed={status === s} onClick={() => setStatus(s)}>
            {t(s)}
          </button>
        ))}
      </div>
      <ProblemBanner problem={list.problem} />
      {!list.data ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <p className="muted">{t("Nothing here.")}</p>
      ) : (
        <ul className="cards">
          {list.data.items.map((p) => (
            <ReviewCard key={p.id} performance={p} onDone={() => void list.reload()} />
          ))}
        </ul>
      )}
    </section>
  );
}

function ReviewCard({ performance: p, onDone }: { performance: Performance; onDone: () => void }) {
  const { t, instant } = useI18n();
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const approve = async () => {
    const { data, error, response } = await api.POST("/admin/performances/{performanceId}/approve", {
      params: { path: { performanceId: p.id } },
    });
    if (!data) return setProblem(asProblem(error, response.status));
    onDone();
  };
  const reject = async () => {
    const { data, error, response } = await api.POST("/admin/performances/{performanceId}/reject", {
      params: { path: { performanceId: p.id } },
      body: { reason },
    });
    if (!data) return setProblem(asProblem(error, response.status));
    onDone();
  };
  return (
    <li className="card" data-performance-id={p.id} aria-label={p.title}>
      <h2>
        <Link href={`/performances/${p.id}`}>{p.title}</Link>
      </h2>
      <p>
        <StatusBadge status={p.status} /> {t(p.category)} · {p.venue.name}, {p.venue.city}
      </p>
      <p className="muted">
        {t("On sale {from} – {to}", { from: instant(p.saleOpensAt), to: instant(p.saleClosesAt) })}
      </p>
      {p.rejectionReason ? <p className="problem-inline">{p.rejectionReason}</p> : null}
      <ProblemBanner problem={problem} />
      {p.status === "PENDING_APPROVAL" ? (
        rejecting ? (
          <>
            <TextField label={t("Why it is rejected")} value={reason} onChange={setReason} error={fieldError(problem, "reason")} />
            <button type="button" className="danger" onClick={reject}>
              {t("Reject")}
            </button>{" "}
            <button type="button" onClick={() => setRejecting(false)}>
              {t("Back")}
            </button>
          </>
        ) : (
          <>
            <button type="button" className="primary" onClick={approve}>
              {t("Approve")}
            </button>{" "}
            <button type="button" onClick={() => setRejecting(true)}>
              {t("Reject…")}
            </button>
          </>
        )
      ) : null}
    </li>
  );
}
