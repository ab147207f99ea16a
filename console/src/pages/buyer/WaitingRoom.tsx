// The waiting room: join the showtime's queue, show the ticket's place until admitted, then hand the
// admission token to the seat picker.
import { useEffect, useState } from "react";
import { api, asProblem, type Problem, type Schemas } from "../../api/client";
import { ProblemBanner } from "../../components/ui";
import { useI18n } from "../../lib/i18n";

export function WaitingRoom({ showtimeId, onAdmitted }: { showtimeId: string; onAdmitted: (token: string) => void }) {
  const { t } = useI18n();
  const [ticket, setTicket] = useState<Schemas["TicketView"] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (ticketId: string) => {
      const { data, error, response } = await api.GET("/queue/{ticketId}", { params: { path: { ticketId } } });
      if (!live) return;
      if (!data) return setProblem(asProblem(error, response.status));
      setTicket(data);
      if (data.status === "ADMITTED" && data.admissionToken) onAdmitted(data.admissionToken);
      else if (data.status === "WAITING" || data.status === "COUNTING")
        timer = setTimeout(() => poll(ticketId), Math.max(1, data.pollAfterSeconds) * 1000);
    };
    (async () => {
      const { data, error, response } = await api.POST("/showtimes/{showtimeId}/queue", {
        params: { path: { showtimeId } },
      });
      if (!live) return;
      if (!data) return setProblem(asProblem(error, response.status));
      setTicket(data);
      void poll(data.ticketId);
    })();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [showtimeId, onAdmitted]);

  return (
    <div className="panel" role="status" aria-live="polite" data-testid="waiting-room">
      <h2>{t("You are in the waiting room")}</h2>
      <ProblemBanner problem={problem} />
      {ticket ? (
        <>
          <p>
            {ticket.position != null
              ? t("Your place: {n}", { n: ticket.position })
              : t("Counting your place…")}
          </p>
          <p className="muted">
            {t("Let in so far: {n}", { n: ticket.serving })}
            {ticket.estimatedWaitSeconds != null
              ? ` · ${t("about {s} s to wait", { s: ticket.estimatedWaitSeconds })}`
              : ""}
          </p>
          {ticket.status === "LOST" || ticket.status === "EXPIRED" ? (
            <p role="alert">{t("Your ticket has lapsed; reload the page to join again.")}</p>
          ) : null}
        </>
      ) : (
        <p>{t("Joining…")}</p>
      )}
    </div>
  );
}
