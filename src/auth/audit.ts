import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Principal } from './principal.ts';

/** Facts about a failed authentication for the audit log, never the credential itself. */
export interface RejectedCredential {
  /** Kind of credential presented: `admin token`, `api key`, `queue key`, `user token`, `service token` or `unknown`. */
  credential: string;
  /** Key id, token `kid` or `sub` when the credential showed one. */
  id?: string | undefined;
  reason: string;
  transport: 'http' | 'websocket';
  requestId?: string | undefined;
  remote?: string | undefined;
}

/** Minimum time between two log lines about rejections for one reason, in ms; the rest are counted. */
const rejectionLogIntervalMs = 1000;

/**
 * The audit log: one line for every credential created, rotated, revoked or deleted, and for
 * rejected credentials, written through the `audit` child logger. Rejections are also counted in
 * `evq_auth_rejections_total`, and their log lines are limited to one per second per reason, with
 * the number left out, so a flood of bad tokens cannot flood the log.
 */
export class AuditLog {
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #lastRejectionLog = new Map<string, { at: number; suppressed: number }>();

  constructor(logger: Logger, metrics: Metrics) {
    this.#logger = logger.child({ component: 'audit' });
    this.#metrics = metrics;
  }

  /** Records a change to a credential or grant, with the principal that made it. */
  changed(event: string, credential: string, id: string, actor: Principal, details: Record<string, unknown>): void {
    this.#logger.info({ event, credential, id, actor: actor.id, ...details }, `${credential} ${event}`);
  }

  /** Records a rejected credential. */
  rejected(rejection: RejectedCredential): void {
    this.#metrics.authRejections.inc({ credential: rejection.credential });
    const now = Date.now();
    const last = this.#lastRejectionLog.get(rejection.reason);
    if (last && now - last.at < rejectionLogIntervalMs) {
      last.suppressed++;
      return;
    }
    if (this.#lastRejectionLog.size > 1000) this.#lastRejectionLog.clear();
    this.#lastRejectionLog.set(rejection.reason, { at: now, suppressed: 0 });
    this.#logger.warn({ event: 'rejected', ...rejection, suppressedSinceLast: last?.suppressed ?? 0 }, 'credential rejected');
  }
}
