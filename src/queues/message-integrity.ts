import type { Engine, Lease, NewMessage, QueueConfig, ReadEntry, StoredMessage } from '../engines/engine.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { MessageSeal, MessageSignature } from '../signing/message-seal.ts';
import type { ProducerSignatures } from '../signing/producer-signatures.ts';
import type { PublishInput } from './validation.ts';

/** Quarantined positions remembered per instance before the set starts over. */
const maxRemembered = 10_000;

export interface MessageIntegrityOptions {
  engine: Engine;
  seal: MessageSeal;
  producerSignatures: ProducerSignatures;
  metrics: Metrics;
  logger: Logger;
}

/**
 * The queue service's part in signed messages: it checks producer signatures and seals each
 * message before storing it, and checks the seal of every record before delivering it. A record
 * whose seal fails (one written straight into storage, for example) is not delivered. It goes to
 * the engine's quarantine and is counted in `evq_messages_quarantined_total`. A leased one is also
 * acked, so it is not leased again.
 */
export class MessageIntegrity {
  readonly #options: MessageIntegrityOptions;
  readonly #logger: Logger;
  readonly #quarantined = new Set<string>();
  /** How long a producer signature is accepted, in seconds: twice the allowed clock skew. */
  readonly signatureWindowSeconds: number;

  constructor(options: MessageIntegrityOptions) {
    this.#options = options;
    this.signatureWindowSeconds = options.producerSignatures.windowSeconds;
    this.#logger = options.logger.child({ component: 'message-integrity' });
  }

  /** Checks the producer signatures of a batch, then returns the messages with evq's seal added. */
  async prepare(queue: QueueConfig, inputs: PublishInput[], messages: NewMessage[], now: number): Promise<NewMessage[]> {
    await this.#options.producerSignatures.verify(queue, inputs, messages, now);
    return this.#options.seal.seal(
      queue.name,
      messages,
      inputs.map((input) => input.data),
      now,
    );
  }

  /** Returns evq's signature of a stored message, or null when it has none. */
  signatureOf(message: StoredMessage): MessageSignature | null {
    return this.#options.seal.signatureOf(message);
  }

  /** Returns true when the message's seal is valid; otherwise it is quarantined. */
  admits(message: StoredMessage): boolean {
    return this.#admit(message);
  }

  /** Returns the entries whose seal is valid and quarantines the others. */
  admitEntries(entries: ReadEntry[]): ReadEntry[] {
    return entries.filter((entry) => this.#admit(entry.message));
  }

  /** Returns the leases whose message seal is valid; the others are quarantined and acked. */
  async admitLeases(queue: string, group: string, leases: Lease[]): Promise<Lease[]> {
    const admitted = leases.filter((lease) => this.#admit(lease.message));
    if (admitted.length === leases.length) return leases;
    const rejected = leases.filter((lease) => !admitted.includes(lease));
    await this.#options.engine.ack(queue, rejected.map((lease) => lease.receipt)).catch((error: unknown) => {
      this.#logger.error({ err: error, queue, group, receipts: rejected.map((lease) => lease.receipt) }, 'acking quarantined deliveries failed');
    });
    return admitted;
  }

  #admit(message: StoredMessage): boolean {
    const reason = this.#options.seal.check(message);
    if (reason === null) return true;
    const { queue, partition, offset, id } = message;
    // Every reader of the record finds it again; it is counted and stored once per instance.
    const position = `${queue}/${partition}/${offset}`;
    if (this.#quarantined.has(position)) return false;
    if (this.#quarantined.size >= maxRemembered) this.#quarantined.clear();
    this.#quarantined.add(position);
    this.#options.metrics.quarantined.inc({ queue });
    this.#logger.warn({ queue, partition, offset, id, reason }, 'record failed its evq signature check; quarantined');
    this.#options.engine.quarantine.add({ queue, partition, offset, message, reason }).catch((error: unknown) => {
      this.#logger.error({ err: error, queue, partition, offset }, 'storing a quarantined record failed');
    });
    return false;
  }
}
