/** Live updates: calls `load` now and every `intervalMs` while the component is shown. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  reload(): void;
}

export function usePolling<T>(load: (() => Promise<T>) | undefined, intervalMs: number, deps: readonly unknown[]): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const generation = useRef(0);
  const run = useCallback(async () => {
    if (!load) return;
    const mine = generation.current;
    setLoading(true);
    try {
      const value = await load();
      if (mine === generation.current) {
        setData(value);
        setError(undefined);
      }
    } catch (e) {
      if (mine === generation.current) setError((e as Error).message);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    generation.current += 1;
    setData(undefined);
    setError(undefined);
    void run();
    if (!load) return;
    const timer = setInterval(() => void run(), intervalMs);
    return () => {
      generation.current += 1;
      clearInterval(timer);
    };
  }, [run, intervalMs]);
  return { data, error, loading, reload: () => void run() };
}
