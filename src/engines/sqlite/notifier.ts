import { ChangeSignal } from '../change-signal.ts';

/**
 * Wakes readers and receivers that wait for a queue to change, in process and without polling.
 * Each queue has a version that every committed change increments. A waiter passes the version it
 * saw before it last looked, so a change that lands between the look and the wait is never missed.
 */
export class Notifier {
  readonly #signals = new Map<string, ChangeSignal>();
  #closed = false;

  /** Returns the queue's current version; compare it later to learn whether anything changed. */
  version(queue: string): number {
    return this.#signals.get(queue)?.version ?? 0;
  }

  /** Records a committed change to `queue` and wakes everyone waiting for it. */
  notify(queue: string): void {
    this.#signal(queue).notify();
  }

  /**
   * Resolves when `queue` moves past `seenVersion`, after `timeoutMs`, when `signal` aborts, or
   * when the notifier closes. Resolves at once if one of these has already happened, and never
   * rejects. A `timeoutMs` of Infinity waits for the other events only.
   */
  wait(queue: string, seenVersion: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed) {
      return Promise.resolve();
    }
    return this.#signal(queue).wait(seenVersion, timeoutMs, signal);
  }

  /** Wakes every waiter and makes later waits return at once. */
  close(): void {
    this.#closed = true;
    for (const signal of this.#signals.values()) {
      signal.close();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  #signal(queue: string): ChangeSignal {
    let signal = this.#signals.get(queue);
    if (signal === undefined) {
      signal = new ChangeSignal();
      this.#signals.set(queue, signal);
    }
    return signal;
  }
}
