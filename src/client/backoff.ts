/** Delays between retries: exponential, capped, with jitter. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialDelayMs: number;
  /** Max delay, in ms. */
  maxDelayMs: number;
}

export const defaultBackoff: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 10_000 };

/**
 * Returns the delay in ms before retry number `retry` (0 for the first): a random value between
 * half and all of `initialDelayMs * 2^retry`, capped at `maxDelayMs`. The jitter keeps clients that
 * failed together from retrying together.
 */
export function backoffDelay(retry: number, options: BackoffOptions = defaultBackoff): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(retry, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Waits `ms`, or less when the signal aborts. It never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
