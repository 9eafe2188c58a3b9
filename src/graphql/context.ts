import type { Principal } from '../auth/principal.ts';
import type { Logger } from '../observability/logger.ts';
import type { QueueService } from '../queues/queue-service.ts';
import type { StreamHub } from '../queues/stream-hub.ts';

/** What every resolver receives, built once per HTTP request or graphql-ws operation. */
export interface Context {
  service: QueueService;
  hub: StreamHub;
  principal: Principal;
  requestId: string;
  logger: Logger;
  /** Aborts when the HTTP request or the operation ends, so long-polls stop with it. */
  signal?: AbortSignal;
}
