const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * Wakes callers that wait for something to change, without polling. The version grows with each
 * change. A waiter passes the version it saw before it last looked, so a change between the look
 * and the wait is never missed.
 */
export class ChangeSignal {
  #version = 0;
  readonly #waiters = new Set<() => void>();
  #closed = false;

  get version(): number {
    return this.#version;
  }

  get closed(): boolean {
    return this.#closed;
  }

  notify(): void {
    this.#version++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) {
      wake();
    }
  }

  /**
   * Resolves when the version moves past `seen`, after `timeoutMs`, when `signal` aborts or when
   * this signal closes. Resolves at once if one of these has already happened, and never rejects.
   * A `timeoutMs` of Infinity waits for the other events only.
   */
  wait(seen: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted === true || this.#version !== seen || timeoutMs <= 0) {
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    let timer: NodeJS.Timeout | undefined;
    const wake = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      this.#waiters.delete(wake);
      resolve();
    };
    if (Number.isFinite(timeoutMs)) {
      // setTimeout fires at once for delays above 2^31 - 1 ms; a shorter wake only costs a retry.
      timer = setTimeout(wake, Math.min(timeoutMs, maxTimerDelayMs));
    }
    signal?.addEventListener('abort', wake, { once: true });
    this.#waiters.add(wake);
    return promise;
  }

  /** Wakes every waiter and makes later waits return at once. */
  close(): void {
    this.#closed = true;
    this.notify();
  }
}
