/**
 * The storage port of evq. The queue service (src/queues) is its only caller; GraphQL, REST and
 * the CLI go through the service. Adapters live in sibling folders (sqlite/, kafka/) and must pass
 * the shared conformance suite in test/engines/conformance.ts.
 *
 * What every engine guarantees:
 * - `append` resolves only after the messages are durable (SQLite: committed in WAL; Kafka:
 *   acknowledged by all in-sync replicas). A crash of the evq process after that does not lose them (the crash test checks it).
 * - A queue has `partitions` partitions. A message goes to the partition chosen from its key
 *   (messages without a key are spread), so messages with the same key keep their order.
 *   Offsets are per partition, start at 0 and grow by at least 1 for each message.
 * - A `Position` names the next offset to read in every partition. Reading from a position returns
 *   each message after it exactly once, in offset order within each partition.
 * - Work queue: each (queue, group) sees every message once until it is acked or dead-lettered.
 *   A lease hides a message from other receivers until `visibleUntil`; attempts, leases and
 *   pending delays survive a restart of the engine.
 *
 * What the port leaves out on purpose:
 * - Authentication, permission checks, signatures and payload limits: the service does those.
 * - The encoding of cursors for clients: the service turns a `Position` into an opaque string.
 * - Fan-out to many subscribers: the service runs one `tail` per queue and shares it.
 * - Delays in the stream: `poll`, `messages` and `tail` show a delayed message at once (with its
 *   `deliverAt`); only the work queue waits for it.
 */

/** Settings that a caller may give when creating or updating a queue. */
export interface QueueSettings {
  /** Number of partitions, 1 to 64. Default 1. Fixed after creation. */
  partitions?: number;
  /** How long messages are kept, in seconds. Default 7 days. */
  retentionSeconds?: number;
  /** How long a receive hides a message when the receiver gives no visibility, in seconds. Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Deliveries of one message before it moves to the dead-letter queue. Default 5. */
  maxAttempts?: number;
  /** Whether publishes without a valid producer signature are rejected. Default false. */
  requireSignature?: boolean;
}

/** A queue's stored configuration. */
export interface QueueConfig {
  name: string;
  partitions: number;
  retentionSeconds: number;
  visibilityTimeoutSeconds: number;
  maxAttempts: number;
  requireSignature: boolean;
  createdAt: Date;
}

/** Counts for one consumer group of a queue; `published` counts the whole queue. */
export interface QueueStats {
  /** Messages the group can receive now. */
  ready: number;
  /** Messages leased and not yet acked, nacked or expired. */
  inFlight: number;
  /** Messages waiting for their `deliverAt` or a nack delay. */
  delayed: number;
  /** Messages in the queue's dead-letter queue. */
  deadLettered: number;
  /** Messages stored in the queue and not yet removed by retention or purge. */
  published: number;
}

/** A message as the producer gave it, after the service validated it. */
export interface NewMessage {
  /** Unique within the queue's dedup window; the service generates one when the producer did not. */
  id: string;
  key: string | null;
  headers: Record<string, string>;
  /** The JSON payload, already serialized; the engine stores these bytes unchanged. */
  data: string;
  /** Producer principal id, or null. */
  producer: string | null;
  /** Earliest time a work-queue receiver gets it; null means at once. */
  deliverAt: Date | null;
  /**
   * False when the service generated the id (a random UUID that cannot repeat), so the engine may
   * leave the message out of its dedup index. Absent or true: deduplicate by id.
   */
  deduplicate?: boolean;
}

/** A message as stored. */
export interface StoredMessage {
  id: string;
  queue: string;
  key: string | null;
  headers: Record<string, string>;
  /** The JSON payload exactly as appended. */
  data: string;
  producer: string | null;
  publishedAt: Date;
  deliverAt: Date | null;
  partition: number;
  offset: number;
}

/** Next offset to read in each partition, indexed by partition number. */
export type Position = number[];

export interface AppendResult {
  id: string;
  partition: number;
  offset: number;
  /** True when a message with this id was already appended within the dedup window; nothing was stored. */
  duplicate: boolean;
}

/** Start of a read: a position, the earliest retained message, or the end of the log. */
export type ReadStart = Position | 'earliest' | 'latest';

export interface ReadOptions {
  /** Max messages returned, at least 1. */
  limit: number;
  /**
   * Only messages with this key; null or omitted reads every message. The returned position still
   * moves past skipped messages.
   */
  key?: string | null;
  /**
   * When nothing is there, wait up to this many milliseconds for new messages, without busy
   * polling. 0 returns at once.
   */
  waitMs?: number;
  /** Ends a wait early; the read then returns what it has (possibly nothing). */
  signal?: AbortSignal;
}

export interface ReadEntry {
  message: StoredMessage;
  /** The position right after this message, in the order this read returned messages. */
  after: Position;
}

export interface ReadResult {
  entries: ReadEntry[];
  /**
   * The position to pass next time; equals the last entry's `after`, or the start when empty.
   * With a `key` filter it may lie further on, past messages that the read skipped.
   */
  next: Position;
}

export interface ReceiveOptions {
  /** Max leases returned, 1 to 100. */
  limit: number;
  /** How long the leases hide their messages, in seconds. */
  visibilitySeconds: number;
  /** When nothing is ready, wait up to this many milliseconds for a message to become ready. */
  waitMs?: number;
  signal?: AbortSignal;
}

/** A message leased to one receiver of a consumer group. */
export interface Lease {
  /** Opaque token for ack, nack and extend; it names the queue, group, message and this lease. */
  receipt: string;
  group: string;
  /** 1 for the first delivery, then 1 more for each redelivery. */
  attempt: number;
  visibleUntil: Date;
  message: StoredMessage;
}

/** A message that reached the queue's max attempts. */
export interface DeadLetter {
  message: StoredMessage;
  group: string;
  attempts: number;
  /**
   * The error the last nack gave (null when it gave none), or exactly "visibility timeout expired"
   * when the last lease ran out.
   */
  lastError: string | null;
  deadLetteredAt: Date;
  /** Position in the dead-letter list, for paging with `after`. */
  sequence: number;
}

export interface AckOutcome {
  receipt: string;
  /** False when the receipt is malformed, expired or already used; `error` gives the reason. */
  acked: boolean;
  error?: string;
}

/** One entry of the shared records. */
export interface SharedRecord {
  key: string;
  value: string;
}

/**
 * A small map of string records that every evq instance on the same storage shares, with change
 * notifications. It is meant for settings that must be in force at every instance soon after a
 * change, such as credentials and grants.
 *
 * What it guarantees:
 * - Each instance keeps the whole map in memory and reads it all at `start()`, so `get` and `list`
 *   never touch storage. Keep it small enough for that.
 * - Writes are durable when `put` or `delete` resolves (SQLite: committed; Kafka: acknowledged by
 *   all in-sync replicas), and this instance serves them from then on.
 * - Last write wins per key. Every instance applies the writes to one key in the same order: the
 *   order of commits (SQLite) or of offsets in the records topic (Kafka). Writes that one instance
 *   makes take effect in the order they were called.
 * - Listeners see every change, in that order, at every instance. Another Kafka instance applies
 *   a change as soon as its long-poll fetch of the records topic returns the record. A test with
 *   two instances on a local broker asserts that this takes less than a second.
 *
 * What it leaves out:
 * - Transactions and conditional writes. Two keys written one after the other may reach another
 *   instance in between, and a read-modify-write can lose a concurrent write.
 * - Sharing between processes on SQLite. The SQLite engine serves one evq process per database
 *   file and reads the table only at `start()`.
 * - A size limit of its own. The Kafka broker rejects a record batch larger than the topic's
 *   `max.message.bytes` (1 048 588 bytes by default), so a value near 1 MiB makes `put` throw
 *   ENGINE_UNAVAILABLE there.
 *
 * Every method but `onChange` throws ENGINE_UNAVAILABLE before `start()` and after `close()`.
 */
export interface SharedRecords {
  /** Returns the value stored under `key`, or null. Synchronous because it reads memory only. */
  get(key: string): string | null;
  /**
   * Returns every record whose key starts with `prefix` (all when empty), sorted by key in UTF-16
   * code unit order, the order of JavaScript's `<` on strings.
   */
  list(prefix: string): SharedRecord[];
  /**
   * Stores `value` under `key`. Resolves once this instance serves the new value: `get` returns
   * it (unless a later write replaced it) and the listeners have run. Throws BAD_USER_INPUT when
   * `key` is not a non-empty string or `value` is not a string.
   */
  put(key: string, value: string): Promise<void>;
  /**
   * Removes `key` and resolves once this instance no longer serves it. Removing a missing key is
   * not an error. Throws BAD_USER_INPUT like `put`.
   */
  delete(key: string): Promise<void>;
  /**
   * Calls `listener` after each put and after each delete that removed a key, whether made here
   * or at another instance. `value` is null for a delete. A listener added before `start()` also
   * gets each record that `start()` loads, as a put. A listener that throws is logged and does not
   * stop the others. Returns a function that removes the listener.
   */
  onChange(listener: (key: string, value: string | null) => void): () => void;
}

/** Largest `windowMs` that `NonceClaims.claim` accepts: one day, the retention of Kafka's nonce topic. */
export const maxNonceWindowMs = 24 * 60 * 60 * 1000;

/**
 * Claims of keys, such as a producer key's nonces, that every evq instance on the same storage
 * decides the same way. It is the replay cache of signed messages.
 *
 * What it guarantees:
 * - A claim holds its key for `windowMs` from the time it was made. A later claim of the key
 *   within that time loses and does not extend the hold. A claim made after the hold ended takes
 *   the key. Times are those of the instance that made each claim.
 * - Every instance decides concurrent claims of one key the same way: SQLite in commit order,
 *   Kafka in the offset order of the nonce topic. On Kafka this can fail for claims whose clocks
 *   differ by more than a minute, and at an instance started while one key was being claimed
 *   again and again; kafka/claim-holders.ts and kafka/nonce-claims.ts describe both cases.
 * - A claim is durable when `claim` resolves (SQLite: committed; Kafka: acknowledged by all
 *   in-sync replicas and read back), so it survives a restart within its window.
 *
 * Every call throws ENGINE_UNAVAILABLE before `start()`, after `close()`, and when storage fails.
 * Then the outcome of the claim is unknown, and the caller must treat the key as not claimed by
 * `owner`.
 */
export interface NonceClaims {
  /**
   * Claims `key` (for example `<keyId>\n<nonce>`) for `owner` (a message id) and returns the owner
   * that holds the claim: `owner` when this is the first claim of `key` within the last
   * `windowMs`, otherwise the owner of that earlier claim. Every instance on the same storage
   * agrees on who was first. Resolves once the claim is durable. Throws BAD_USER_INPUT unless
   * `key` and `owner` are non-empty strings and `windowMs` is a number of milliseconds above 0
   * and at most `maxNonceWindowMs` (or the Kafka engine's `maxNonceWindowMs` option).
   */
  claim(key: string, owner: string, windowMs: number): Promise<string>;
}

/** A stored record whose integrity check failed, kept for an operator to inspect. */
export interface QuarantinedRecord {
  queue: string;
  partition: number;
  offset: number;
  /** The message as read from storage; its fields may be anything a writer put there. */
  message: StoredMessage;
  reason: string;
  quarantinedAt: Date;
}

/**
 * Records of a queue that failed their integrity check, one entry per (queue, partition, offset).
 * Entries go with the queue: `deleteQueue` and `purgeQueue` remove them, so a queue created again
 * under the same name starts with none. The Kafka engine keeps them in its quarantine topic for 7
 * days and lists only those added since the queue was created or last purged.
 *
 * Every call throws ENGINE_UNAVAILABLE before `start()`, after `close()`, and when storage fails,
 * and QUEUE_NOT_FOUND when the queue does not exist.
 */
export interface Quarantine {
  /**
   * Stores the record unless this (queue, partition, offset) is already in quarantine; resolves
   * once durable. A record already there keeps its first reason and time. Throws BAD_USER_INPUT
   * for an empty queue name, a partition or offset that is not a non-negative integer, a reason
   * that is not a string, or a message that is not an object that JSON can encode.
   */
  add(record: Omit<QuarantinedRecord, 'quarantinedAt'>): Promise<void>;
  /**
   * Returns a queue's quarantined records, oldest first, at most `limit`. Throws BAD_USER_INPUT
   * for an empty queue name or a `limit` that is not a positive integer.
   */
  list(queue: string, limit: number): Promise<QuarantinedRecord[]>;
}

export interface Engine {
  readonly kind: 'sqlite' | 'kafka';

  /** The shared records of every instance on this storage, usable after `start()`. */
  readonly records: SharedRecords;

  /** The replay cache of signed messages, shared by every instance on this storage; usable after `start()`. */
  readonly nonces: NonceClaims;

  /** Records whose integrity check failed, by queue; usable after `start()`. */
  readonly quarantine: Quarantine;

  /** Opens storage and starts background work. Called once before anything else. */
  start(): Promise<void>;
  /** Stops background work and releases storage. Idempotent; waits for pending writes. */
  close(): Promise<void>;
  /** True while the engine can serve reads and writes. */
  isReady(): Promise<boolean>;

  /** Creates a queue. Throws QUEUE_EXISTS when the name is taken. */
  createQueue(name: string, settings: QueueSettings): Promise<QueueConfig>;
  /** Changes settings other than `partitions`. Throws QUEUE_NOT_FOUND or BAD_USER_INPUT. */
  updateQueue(name: string, settings: QueueSettings): Promise<QueueConfig>;
  /**
   * Deletes a queue with its messages, leases, dead letters and quarantined records. Returns false
   * when it did not exist.
   */
  deleteQueue(name: string): Promise<boolean>;
  getQueue(name: string): Promise<QueueConfig | null>;
  /** Queues whose names start with `prefix` (all when empty), sorted by name. */
  listQueues(prefix?: string): Promise<QueueConfig[]>;
  /** Throws QUEUE_NOT_FOUND. */
  stats(queue: string, group: string): Promise<QueueStats>;
  /**
   * Removes every message, lease, dead letter and quarantined record; offsets keep growing. Throws
   * QUEUE_NOT_FOUND.
   */
  purgeQueue(queue: string): Promise<void>;

  /**
   * Appends messages durably, in order, and resolves with one result per message. A message whose
   * id was appended within `dedupWindowMs` gets the first result with `duplicate: true`; that
   * includes a repeat inside the same call. A window of 0 turns dedup off.
   * Throws QUEUE_NOT_FOUND, or ENGINE_UNAVAILABLE when storage fails (then nothing is reported
   * stored).
   */
  append(queue: string, messages: NewMessage[], dedupWindowMs: number): Promise<AppendResult[]>;

  /** Resolves a start into a position. Throws QUEUE_NOT_FOUND. */
  resolve(queue: string, start: ReadStart): Promise<Position>;

  /**
   * Reads the stream after a position without side effects. Throws CURSOR_EXPIRED when the
   * position is before the earliest retained offset of a partition, BAD_USER_INPUT when it has the
   * wrong number of partitions or points past the end, and QUEUE_NOT_FOUND.
   */
  read(queue: string, start: ReadStart, options: ReadOptions): Promise<ReadResult>;

  /**
   * Yields every message after `start` as it is appended, in batches, until the signal aborts or
   * the queue is deleted. Waits without busy polling. Throws like `read`.
   */
  tail(queue: string, start: ReadStart, signal: AbortSignal): AsyncIterable<ReadEntry[]>;

  /**
   * Leases up to `limit` ready messages to a receiver of `group`. A message is ready when its
   * `deliverAt` and any nack delay have passed and it has no live lease. A lease that expires
   * makes the message ready again with the next attempt. A message whose next attempt would pass
   * the queue's `maxAttempts` moves to the dead-letter queue instead. A group that has never received
   * starts at the earliest retained message.
   */
  receive(queue: string, group: string, options: ReceiveOptions): Promise<Lease[]>;

  /** Marks leased messages done. Each receipt gets its own outcome; none throws for a bad receipt. */
  ack(queue: string, receipts: string[]): Promise<AckOutcome[]>;

  /**
   * Releases a lease now (delaySeconds 0) or makes the message ready after a delay, recording
   * `error` as its last error. Throws RECEIPT_INVALID when the receipt is malformed or its lease
   * has expired or ended.
   */
  nack(queue: string, receipt: string, delaySeconds: number, error?: string | null): Promise<void>;

  /** Sets the lease to end `seconds` from now. Throws RECEIPT_INVALID like `nack`. */
  extendVisibility(queue: string, receipt: string, seconds: number): Promise<Date>;

  /** Lists dead letters after a sequence number (exclusive, or null for the oldest), oldest first. */
  deadLetters(queue: string, after: number | null, limit: number): Promise<DeadLetter[]>;

  /**
   * Moves up to `limit` dead letters back to the queue as new ready messages for their group,
   * with attempts reset. Returns how many moved.
   */
  redrive(queue: string, limit: number): Promise<number>;
}
