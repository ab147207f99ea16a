// Load something from the API for a page: its data, the problem if it failed, and a reload.
import { useCallback, useEffect, useState } from "react";
import { api, asProblem, type Problem } from "../api/client";

export interface Loaded<T> {
  data: T | undefined;
  problem: Problem | null;
  loading: boolean;
  reload: () => Promise<void>;
}

export function useApi<T>(
  load: () => Promise<{ data?: T; error?: unknown; response: Response }>,
  deps: unknown[],
  pollMs?: number,
): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    const out = await run();
    if (out.data !== undefined) {
      setData(out.data);
      setProblem(null);
    } else {
      setProblem(asProblem(out.error, out.response.status));
    }
    setLoading(false);
  }, [run]);
  useEffect(() => {
    setLoading(true);
    void reload();
    if (!pollMs) return;
    const timer = setInterval(() => void reload(), pollMs);
    return () => clearInterval(timer);
  }, [reload, pollMs]);
  return { data, problem, loading, reload };
}

/** A performance, and its showtimes (first 100), as buyers and organizers read them. */
export function usePerformance(performanceId: string) {
  const performance = useApi(
    () => api.GET("/performances/{performanceId}", { params: { path: { performanceId } } }),
    [performanceId],
  );
  const showtimes = useApi(
    () =>
      api.GET("/performances/{performanceId}/showtimes", {
        params: { path: { performanceId }, query: { limit: 100 } },
      }),
    [performanceId],
  );
  return { performance, showtimes };
}
