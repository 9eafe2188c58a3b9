/**
 * Names of the Kafka topics and consumer groups that evq uses. Queue names match
 * /^[A-Za-z0-9][A-Za-z0-9._-]*$/ (the queue service rejects others), so a queue topic never starts
 * with `<prefix>__`, and the internal topics below cannot collide with any queue.
 */
export class TopicNames {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Returns the topic that stores a queue's messages. */
  queue(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Returns the single-partition topic that stores a queue's dead letters. */
  deadLetters(name: string): string {
    return `${this.prefix}__dlq.${name}`;
  }

  /** Returns the topic, partitioned like the queue, that journals every group's leases, acks and nacks. */
  journal(name: string): string {
    return `${this.prefix}__journal.${name}`;
  }

  /** Returns the compacted topic that stores every queue's configuration, keyed by queue name. */
  config(): string {
    return `${this.prefix}__config`;
  }

  /** Returns the compacted topic that stores the engine's shared records, keyed by record key. */
  records(): string {
    return `${this.prefix}__records`;
  }

  /** Returns the single-partition topic of nonce claims, the replay cache of signed messages. */
  nonces(): string {
    return `${this.prefix}__nonces`;
  }

  /** Returns the single-partition topic that stores every queue's quarantined records. */
  quarantine(): string {
    return `${this.prefix}__quarantine`;
  }

  /**
   * Returns the Kafka consumer group id of an evq group. Queue names cannot contain '/', so the pair
   * (queue, group) maps to one group id.
   */
  groupId(queue: string, group: string): string {
    return `${this.prefix}${queue}/${group}`;
  }

  /** Returns the prefix of a queue's group ids, for finding them when the queue is deleted. */
  groupIdPrefix(queue: string): string {
    return `${this.prefix}${queue}/`;
  }
}
