const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * Wakes readers and receivers that wait for a queue to change, in process and without polling.
 * Each queue has a version that every committed change increments. A waiter passes the version it
 * saw before it last looked, so a change that lands between the look and the wait is never missed.
 */
export class Notifier {
  readonly #versions = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #closed = false;

  /** Returns the queue's current version; compare it later to learn whether anything changed. */
  version(queue: string): number {
    return this.#versions.get(queue) ?? 0;
  }

  /** Records a committed change to `queue` and wakes everyone waiting for it. */
  notify(queue: string): void {
    this.#versions.set(queue, this.version(queue) + 1);
    const waiters = this.#waiters.get(queue);
    if (waiters === undefined) {
      return;
    }
    this.#waiters.delete(queue);
    for (const wake of waiters) {
      wake();
    }
  }

  /**
   * Resolves when `queue` moves past `seenVersion`, after `timeoutMs`, when `signal` aborts, or
   * when the notifier closes. Resolves at once if one of these has already happened, and never
   * rejects. A `timeoutMs` of Infinity waits for the other events only.
   */
  wait(queue: string, seenVersion: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted === true || this.version(queue) !== seenVersion || timeoutMs <= 0) {
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    let timer: NodeJS.Timeout | undefined;
    const wake = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      const current = this.#waiters.get(queue);
      if (current?.delete(wake) === true && current.size === 0) {
        this.#waiters.delete(queue);
      }
      resolve();
    };
    if (Number.isFinite(timeoutMs)) {
      // setTimeout fires at once for delays above 2^31 - 1 ms; a shorter wake only costs a retry.
      timer = setTimeout(wake, Math.min(timeoutMs, maxTimerDelayMs));
    }
    signal?.addEventListener('abort', wake, { once: true });
    let waiters = this.#waiters.get(queue);
    if (waiters === undefined) {
      waiters = new Set();
      this.#waiters.set(queue, waiters);
    }
    waiters.add(wake);
    return promise;
  }

  /** Wakes every waiter and makes later waits return at once. */
  close(): void {
    this.#closed = true;
    const all = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const waiters of all) {
      for (const wake of waiters) {
        wake();
      }
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
}
