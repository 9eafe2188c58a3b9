import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus metrics evq exports at `/metrics`; one registry per server so tests stay apart. */
export class Metrics {
  readonly registry = new Registry();

  readonly published = new Counter({
    name: 'evq_messages_published_total',
    help: 'Messages stored by publish and publishBatch, duplicates excluded.',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  readonly duplicates = new Counter({
    name: 'evq_messages_duplicate_total',
    help: 'Publishes recognized as repeats of a message id within the dedup window.',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  readonly publishSeconds = new Histogram({
    name: 'evq_publish_duration_seconds',
    help: 'Time from a validated publish to durable storage.',
    labelNames: ['queue'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly delivered = new Counter({
    name: 'evq_messages_delivered_total',
    help: 'Messages leased to work-queue receivers, redeliveries included.',
    labelNames: ['queue', 'group'],
    registers: [this.registry],
  });

  readonly acked = new Counter({
    name: 'evq_messages_acked_total',
    help: 'Leases acknowledged.',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  readonly nacked = new Counter({
    name: 'evq_messages_nacked_total',
    help: 'Leases released by nack.',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  readonly streamed = new Counter({
    name: 'evq_messages_streamed_total',
    help: 'Messages sent to messages subscribers.',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  readonly subscriptions = new Gauge({
    name: 'evq_subscriptions',
    help: 'Open subscriptions by kind.',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  readonly sockets = new Gauge({
    name: 'evq_websockets',
    help: 'Open graphql-ws WebSocket connections.',
    registers: [this.registry],
  });

  readonly httpRequests = new Histogram({
    name: 'evq_http_request_duration_seconds',
    help: 'HTTP request duration by route and status.',
    labelNames: ['route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 25],
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'evq_errors_total',
    help: 'Errors returned to callers, by code.',
    labelNames: ['code'],
    registers: [this.registry],
  });

  readonly authRejections = new Counter({
    name: 'evq_auth_rejections_total',
    help: 'Credentials rejected by authentication, by kind of credential.',
    labelNames: ['credential'],
    registers: [this.registry],
  });

  readonly signatureRejections = new Counter({
    name: 'evq_signature_rejections_total',
    help: 'Publishes rejected for their producer signature, by queue and code.',
    labelNames: ['queue', 'code'],
    registers: [this.registry],
  });

  readonly quarantined = new Counter({
    name: 'evq_messages_quarantined_total',
    help: 'Stored records whose evq signature failed, kept from delivery and moved to quarantine.',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'evq_' });
    }
  }

  /** Adds gauges computed at scrape time, such as queue depth read from the engine. */
  addCollector(name: string, help: string, labelNames: string[], collect: (gauge: Gauge) => Promise<void>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await collect(this);
      },
    });
  }
}
