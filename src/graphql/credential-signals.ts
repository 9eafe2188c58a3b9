import type { AccessControl } from '../auth/access-control.ts';
import type { Principal } from '../auth/principal.ts';
import { isEvqError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/** Max delay that AbortSignal.timeout accepts, in ms; longer ones would fire at once. */
const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * Returns signals that end an HTTP operation (an SSE stream or a long-poll) when its credential
 * stops being valid. One aborts at the principal's expiry. The other aborts when its service
 * account or queue key changes at any instance and `authorization` no longer authenticates.
 * graphql-ws closes its sockets for the same reasons. The listener goes once `requestEnded` aborts.
 */
export function credentialSignals(
  access: AccessControl,
  principal: Principal,
  authorization: string | null,
  requestEnded: AbortSignal,
  logger: Logger,
): AbortSignal[] {
  const signals: AbortSignal[] = [];
  if (principal.expiresAt !== null) {
    const delay = Math.max(0, principal.expiresAt - Date.now());
    if (delay <= maxTimerDelayMs) signals.push(AbortSignal.timeout(delay));
  }
  if (principal.credential !== null) {
    const revoked = new AbortController();
    const stop = access.store.onCredentialChange((credential) => {
      if (credential !== principal.credential) return;
      access.authenticate(authorization, { transport: 'http' }).catch((error: unknown) => {
        if (isEvqError(error)) logger.info({ principal: principal.id, reason: error.message }, 'HTTP stream ended by authorization');
        else logger.error({ err: error, principal: principal.id }, 'checking an HTTP stream credential again failed');
        revoked.abort();
      });
    });
    requestEnded.addEventListener('abort', stop, { once: true });
    revoked.signal.addEventListener('abort', stop, { once: true });
    signals.push(revoked.signal);
  }
  return signals;
}
