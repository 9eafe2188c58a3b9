import type { Logger } from '../../observability/logger.ts';

/** How long a readiness result is reused, in ms, so frequent probes send one request per interval. */
const resultTtlMs = 1000;

/**
 * Readiness of the Kafka cluster: whether `check` (a cheap request with a short timeout) succeeds.
 * Results are cached for a second, and concurrent callers share one check in flight. Logs once
 * when the cluster becomes unreachable and once when it is reachable again, not on every probe.
 */
export class ReadinessProbe {
  readonly #check: () => Promise<unknown>;
  readonly #logger: Logger;
  /** The engine reached the cluster while it started, so the first state is ready. */
  #ready = true;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #running: Promise<boolean> | null = null;

  constructor(check: () => Promise<unknown>, logger: Logger) {
    this.#check = check;
    this.#logger = logger;
  }

  /** Resolves with the latest result, checking again when it is older than a second. Never rejects. */
  isReady(): Promise<boolean> {
    if (performance.now() - this.#checkedAt < resultTtlMs) {
      return Promise.resolve(this.#ready);
    }
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #run(): Promise<boolean> {
    let ready = true;
    try {
      await this.#check();
    } catch (error) {
      ready = false;
      if (this.#ready) {
        this.#logger.warn({ err: error }, 'kafka cluster unreachable; readiness is false');
      }
    }
    if (ready && !this.#ready) {
      this.#logger.info('kafka cluster reachable again; readiness is true');
    }
    this.#ready = ready;
    this.#checkedAt = performance.now();
    return ready;
  }
}
