import type { AccessControl } from '../auth/access-control.ts';
import type { Principal } from '../auth/principal.ts';
import type { EvqKeyRing } from '../signing/evq-keys.ts';
import type { ProducerKeys } from '../signing/producer-keys.ts';
import type { Logger } from '../observability/logger.ts';
import type { QueueService } from '../queues/queue-service.ts';
import type { StreamHub } from '../queues/stream-hub.ts';

/** Context that every resolver receives, built once per HTTP request or graphql-ws operation. */
export interface Context {
  service: QueueService;
  hub: StreamHub;
  access: AccessControl;
  producerKeys: ProducerKeys;
  evqKeys: EvqKeyRing;
  principal: Principal;
  requestId: string;
  /** Returns the request's child logger, created on first use. */
  logger(): Logger;
  /**
   * Returns a signal that aborts when the HTTP request or the socket ends or the server shuts
   * down, so long-polls stop with it. Created on first use, because most operations need none.
   */
  signal(): AbortSignal;
}
