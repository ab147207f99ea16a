import { useEffect, useState } from "react";
import { useI18n } from "../lib/i18n";

/** Minutes and seconds left until `until`, ticking every second; says so when the time is up. */
export function Countdown({ until, label }: { until: string; label: string }) {
  const { t } = useI18n();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.max(0, Math.floor((new Date(until).getTime() - now) / 1000));
  const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  return (
    <p className="countdown" role="timer" aria-live="off" data-testid="hold-countdown">
      {label}: <strong>{left > 0 ? text : t("time is up")}</strong>
    </p>
  );
}
