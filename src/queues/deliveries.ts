import { abortable } from './abortable.ts';
import type { DeliveryView, QueueService } from './queue-service.ts';

export interface DeliveriesOptions {
  queue: string;
  group: string;
  /** Max unacked deliveries this subscriber has at once. */
  maxInFlight: number;
  visibilitySeconds: number;
  signal?: AbortSignal;
}

/**
 * Pushes work-queue deliveries to one subscriber, holding at most `maxInFlight` unacked at a
 * time. A slot frees when the delivery is acked or nacked through this evq instance, or when
 * its lease expires. An error that ends the stream (the queue was deleted, storage failed) is
 * yielded as the last item, so the transport can send it with its code.
 */
export function streamDeliveries(service: QueueService, options: DeliveriesOptions): AsyncGenerator<DeliveryView | Error> {
  return abortable((signal) => deliveryLoop(service, options, signal), options.signal);
}

async function* deliveryLoop(service: QueueService, options: DeliveriesOptions, signal: AbortSignal): AsyncGenerator<DeliveryView | Error> {
  const { queue, group, maxInFlight, visibilitySeconds } = options;
  /** Receipts held by this subscriber, with the time their lease ends (ms since epoch). */
  const inFlight = new Map<string, number>();
  let wake: () => void = () => {};
  const onSettled = (receipt: string) => {
    if (inFlight.delete(receipt)) wake();
  };
  const onExtended = (receipt: string, visibleUntil: Date) => {
    if (inFlight.has(receipt)) inFlight.set(receipt, visibleUntil.getTime());
  };
  service.leaseEvents.on('settled', onSettled);
  service.leaseEvents.on('extended', onExtended);
  signal.addEventListener('abort', () => wake(), { once: true });
  const release = service.trackConsumer(queue, 'deliveries');

  try {
    while (!signal.aborted) {
      const now = Date.now();
      for (const [receipt, visibleUntil] of inFlight) {
        if (visibleUntil <= now) inFlight.delete(receipt);
      }

      const free = maxInFlight - inFlight.size;
      if (free <= 0) {
        const nextExpiry = Math.min(...inFlight.values());
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, nextExpiry - now));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => {};
        continue;
      }

      const deliveries = await service.receive(queue, {
        group,
        limit: Math.min(free, service.limits.maxReceiveLimit),
        waitSeconds: service.limits.maxWaitSeconds,
        visibilitySeconds,
        signal,
      });
      for (const delivery of deliveries) {
        inFlight.set(delivery.receipt, delivery.visibleUntil.getTime());
        yield delivery;
      }
    }
  } catch (error) {
    yield error as Error;
  } finally {
    service.leaseEvents.off('settled', onSettled);
    service.leaseEvents.off('extended', onExtended);
    release();
  }
}
