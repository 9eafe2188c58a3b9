import { Consumer, type GroupAssignment } from '@platformatic/kafka';
import type { Logger } from '../../observability/logger.ts';
import { ChangeSignal } from '../change-signal.ts';
import { decodeJournal, type DeliveryRequest, type DeliveryState } from './journal.ts';
import type { LogReader } from './log-reader.ts';
import { decodeMessage, messageHeaders, type FetchedRecord } from './message-codec.ts';
import { PartitionState } from './partition-state.ts';

/** The engine's clients, names and callbacks that a member uses. */
export interface MemberOptions {
  brokers: string[];
  clientId: string;
  /** Random id of this engine process; journal records it wrote carry it. */
  writer: string;
  queue: string;
  group: string;
  groupId: string;
  queueTopic: string;
  journalTopic: string;
  reader: LogReader;
  logger: Logger;
  /** Called for each request of another instance once its delivery is in memory, or is done. */
  onRequest(state: PartitionState, offset: number, requestId: string, request: DeliveryRequest): void;
  /** Called after records or journal entries arrived, so waiting receivers look again. */
  onIngest(): void;
}

/** Fresh records per partition that the member fetches ahead at most. */
const fetchAheadRecords = 1000;
/** Max wait of the background fetch, in ms. A newly assigned partition joins the fetch after this. */
const loopWaitMs = 2000;
const retryDelayMs = 1000;
/** Delay before committed offsets are written after a change, in ms; commits of a burst merge. */
const commitDelayMs = 200;

/**
 * One evq group of one queue at this instance: a member of the queue's Kafka consumer group for
 * that evq group, so each partition has one owning instance. For each partition it owns, it first
 * replays the journal: leases, nack delays, done records and requests of other instances. It then
 * keeps the fetched records that are not done in memory and follows the queue and journal topics
 * with long-poll fetches. It commits the lowest offset that is not done.
 */
export class GroupMember {
  readonly queue: string;
  readonly group: string;
  readonly changes = new ChangeSignal();
  readonly #options: MemberOptions;
  readonly #logger: Logger;
  readonly #consumer: Consumer;
  readonly #partitions = new Map<number, PartitionState>();
  /** Requests of other instances whose delivery is not fetched yet, per partition and request id. */
  readonly #pendingRequests = new Map<number, Map<string, { offset: number; request: DeliveryRequest }>>();
  #assigned: Promise<void> = Promise.resolve();
  /** Per partition, the number of its latest load; an older load that finishes late is dropped. */
  readonly #loads = new Map<number, number>();
  #loadCount = 0;
  #loop: Promise<void> | null = null;
  #commitTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: MemberOptions) {
    this.#options = options;
    this.queue = options.queue;
    this.group = options.group;
    this.#logger = options.logger.child({ queue: options.queue, group: options.group });
    this.#consumer = new Consumer({
      clientId: options.clientId,
      groupId: options.groupId,
      bootstrapBrokers: options.brokers,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 1000,
      retries: 3,
      retryDelay: 250,
    });
    this.#consumer.on('consumer:group:join', (payload) => this.#onAssignment(payload.assignments ?? []));
    this.#consumer.on('error', (error: Error) => this.#logger.warn({ err: error }, 'consumer group error'));
  }

  /** Joins the consumer group, loads the assigned partitions and starts following them. */
  async start(): Promise<void> {
    this.#consumer.topics.track(this.#options.queueTopic);
    await this.#consumer.joinGroup({});
    await this.#assigned;
    this.#loop = this.#follow();
  }

  /** Resolves once the partitions of the latest assignment are loaded. */
  async ready(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.#assigned;
      await seen;
    } while (seen !== this.#assigned);
  }

  get partitions(): ReadonlyMap<number, PartitionState> {
    return this.#partitions;
  }

  /** Fetches, without waiting, the records after what each owned partition holds. */
  async topUp(): Promise<void> {
    const states = [...this.#partitions.values()].filter((state) => state.countFresh() < fetchAheadRecords);
    const requests = states.map((state) => ({ topic: this.#options.queueTopic, partition: state.partition, offset: state.fetchNext }));
    this.#ingest(states, await this.#options.reader.fetch(requests, { maxWaitMs: 0 }));
  }

  /** Drops every partition and loads them again, as after a purge moved the log start offsets. */
  reload(): void {
    const owned = [...this.#partitions.keys()];
    this.#partitions.clear();
    this.#pendingRequests.clear();
    this.#load(owned);
  }

  /** Writes the committed offsets soon; call after a delivery became done. */
  scheduleCommit(): void {
    if (this.#commitTimer !== null || this.#closed) {
      return;
    }
    this.#commitTimer = setTimeout(() => {
      this.#commitTimer = null;
      void this.#commit();
    }, commitDelayMs);
  }

  /**
   * Commits, leaves the group and stops the fetch loop. The loop's fetch in flight ends when the
   * engine closes the log reader; `stopped` resolves after that.
   */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.changes.close();
    if (this.#commitTimer !== null) {
      clearTimeout(this.#commitTimer);
      this.#commitTimer = null;
    }
    await this.#commit();
    try {
      await this.#consumer.close(true);
    } catch (error) {
      this.#logger.warn({ err: error }, 'leaving the consumer group failed');
    }
  }

  /** Resolves when the fetch loop has ended. */
  async stopped(): Promise<void> {
    await this.#loop;
  }

  #onAssignment(assignments: GroupAssignment[]): void {
    const owned = new Set(assignments.find((assignment) => assignment.topic === this.#options.queueTopic)?.partitions ?? []);
    for (const partition of this.#partitions.keys()) {
      if (!owned.has(partition)) {
        this.#partitions.delete(partition);
        this.#pendingRequests.delete(partition);
      }
    }
    for (const partition of this.#loads.keys()) {
      if (!owned.has(partition)) {
        this.#loads.delete(partition);
      }
    }
    this.#logger.info({ partitions: [...owned] }, 'partitions assigned');
    this.#load([...owned].filter((partition) => !this.#partitions.has(partition) && !this.#loads.has(partition)));
  }

  #load(partitions: number[]): void {
    const previous = this.#assigned;
    const loading = Promise.all(
      partitions.map((partition) => {
        const load = ++this.#loadCount;
        this.#loads.set(partition, load);
        return this.#loadPartition(partition, load);
      }),
    );
    this.#assigned = Promise.all([previous, loading]).then(
      () => this.changes.notify(),
      (error: unknown) => {
        this.#logger.error({ err: error, partitions }, 'loading assigned partitions failed; retrying');
        const failed = partitions.filter((partition) => !this.#partitions.has(partition));
        failed.forEach((partition) => this.#loads.delete(partition));
        if (!this.#closed) {
          setTimeout(() => !this.#closed && this.#load(failed), retryDelayMs).unref();
        }
      },
    );
  }

  /** Replays the journal of one partition from its start and installs the partition's state. */
  async #loadPartition(partition: number, load: number): Promise<void> {
    const { reader, queueTopic, journalTopic } = this.#options;
    const [committed, queueOffsets, journalOffsets] = await Promise.all([
      this.#committedOffset(partition),
      reader.offsets(queueTopic),
      reader.offsets(journalTopic),
    ]);
    const start = Math.max(committed ?? 0, queueOffsets.earliest[partition] ?? 0);
    const journalEnd = journalOffsets.latest[partition] ?? 0;
    const state = new PartitionState(partition, start, journalOffsets.earliest[partition] ?? 0);
    const requests = new Map<string, { offset: number; request: DeliveryRequest }>();
    while (state.journalNext < journalEnd) {
      const records = await reader.fetch([{ topic: journalTopic, partition, offset: state.journalNext }], { maxWaitMs: 0 });
      if (records.length === 0) {
        break;
      }
      for (const record of records) {
        this.#applyJournal(state, requests, record, true);
      }
    }
    state.journalNext = Math.max(state.journalNext, journalEnd);
    if (this.#closed || this.#loads.get(partition) !== load) {
      return;
    }
    this.#loads.delete(partition);
    this.#partitions.set(partition, state);
    this.#pendingRequests.set(partition, requests);
    this.#logger.debug({ partition, start, replayed: state.replayed.size, requests: requests.size }, 'partition loaded');
  }

  async #committedOffset(partition: number): Promise<number | null> {
    const topic = this.#options.queueTopic;
    const committed = await this.#consumer.listCommittedOffsets({ topics: [{ topic, partitions: [partition] }] });
    const offset = committed.get(topic)?.[partition] ?? -1n;
    return offset < 0n ? null : Number(offset);
  }

  /**
   * Applies one journal record. During a replay every state counts; while following, the states
   * that this process wrote are skipped, because it applied them when it wrote them.
   */
  #applyJournal(
    state: PartitionState,
    requests: Map<string, { offset: number; request: DeliveryRequest }>,
    record: FetchedRecord,
    replaying: boolean,
  ): void {
    if (record.offset < state.journalNext) {
      return;
    }
    state.journalNext = record.offset + 1;
    const entry = decodeJournal(record);
    if (entry === null) {
      this.#logger.warn({ journalOffset: record.offset }, 'skipped a journal record that evq did not write');
      return;
    }
    if (entry.group !== this.group || entry.value === null) {
      return;
    }
    const value = entry.value;
    if (entry.requestId === undefined) {
      if (value.kind === 'state' && (replaying || value.writer !== this.#options.writer)) {
        state.applyState(entry.offset, value as DeliveryState);
      }
    } else if (value.kind === 'verdict') {
      requests.delete(entry.requestId);
    } else if (value.kind !== 'state' && entry.offset >= state.committed) {
      requests.set(entry.requestId, { offset: entry.offset, request: value });
    }
  }

  /** Takes fetched records of the queue and journal topics for the partitions in `states`. */
  #ingest(states: PartitionState[], records: FetchedRecord[]): void {
    const current = new Set(states.filter((state) => this.#partitions.get(state.partition) === state));
    for (const record of records) {
      const state = this.#partitions.get(record.partition);
      if (state === undefined || !current.has(state)) {
        continue;
      }
      if (record.topic === this.#options.queueTopic) {
        state.add(record.offset, this.#messageForGroup(record));
      } else {
        this.#applyJournal(state, this.#pendingRequests.get(record.partition)!, record, false);
      }
    }
    for (const state of current) {
      this.#routeRequests(state);
    }
    if (records.length > 0) {
      this.#options.onIngest();
    }
  }

  /** Hands over the requests whose delivery is in memory, or that can no longer match one. */
  #routeRequests(state: PartitionState): void {
    const requests = this.#pendingRequests.get(state.partition);
    if (requests === undefined) {
      return;
    }
    for (const [requestId, { offset, request }] of requests) {
      if (offset < state.fetchNext || offset < state.committed) {
        requests.delete(requestId);
        this.#options.onRequest(state, offset, requestId, request);
      }
    }
  }

  #messageForGroup(record: FetchedRecord) {
    const redriveGroup = record.headers.get(messageHeaders.redriveGroup);
    if (redriveGroup !== undefined && redriveGroup !== this.group) {
      return null;
    }
    return decodeMessage(this.queue, record);
  }

  /** Follows the owned partitions of the queue and journal topics until the member closes. */
  async #follow(): Promise<void> {
    while (!this.#closed) {
      const states = [...this.#partitions.values()];
      if (states.length === 0) {
        await this.changes.wait(this.changes.version, loopWaitMs);
        continue;
      }
      const requests = states.flatMap((state) => [
        ...(state.countFresh() < fetchAheadRecords
          ? [{ topic: this.#options.queueTopic, partition: state.partition, offset: state.fetchNext }]
          : []),
        { topic: this.#options.journalTopic, partition: state.partition, offset: state.journalNext },
      ]);
      try {
        this.#ingest(states, await this.#options.reader.fetch(requests, { maxWaitMs: loopWaitMs }));
      } catch (error) {
        if (this.#closed) {
          return;
        }
        this.#logger.warn({ err: error }, 'fetching the owned partitions failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  }

  async #commit(): Promise<void> {
    const offsets = [...this.#partitions.values()]
      .map((state) => ({ state, offset: state.lowestPending() }))
      .filter(({ state, offset }) => offset > state.committed);
    if (offsets.length === 0) {
      return;
    }
    try {
      await this.#consumer.commit({
        offsets: offsets.map(({ state, offset }) => ({
          topic: this.#options.queueTopic,
          partition: state.partition,
          offset: BigInt(offset),
          leaderEpoch: -1,
        })),
      });
      for (const { state, offset } of offsets) {
        state.committed = Math.max(state.committed, offset);
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'committing offsets failed; the next commit retries');
    }
  }
}
