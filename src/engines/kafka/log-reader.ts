import { ConnectionPool, Consumer, type ClusterMetadata } from '@platformatic/kafka';
import type { Logger } from '../../observability/logger.ts';
import { isUnknownTopic } from './client-errors.ts';
import type { FetchedRecord } from './message-codec.ts';

/** A fetch position: the next offset to read in one partition of a topic. */
export interface FetchRequest {
  topic: string;
  partition: number;
  offset: number;
}

export interface FetchOptions {
  /** How long the broker may wait for the first byte of new data, in ms. 0 returns at once. */
  maxWaitMs: number;
  /** Max bytes per partition in the response. Default 1 MiB. */
  partitionMaxBytes?: number;
}

/** The earliest retained offset and the next offset to be written of each partition of a topic. */
export interface TopicOffsets {
  earliest: number[];
  latest: number[];
}

/** Long-poll fetches that may run at once; more wait for a free connection. */
const maxLanes = 64;

/** Max wait that one fetch request gives the broker, in ms. Longer waits take several requests. */
export const maxFetchWaitMs = 10_000;

/**
 * Reads topics without a consumer group: offsets, metadata and fetches by partition and offset.
 * The broker processes the requests of one connection in order, so a long-poll fetch would hold
 * up every request behind it. Each fetch therefore takes a connection pool of its own (a lane)
 * and gives it back afterwards. Metadata and offset requests use the consumer's own pool.
 */
export class LogReader {
  readonly #consumer: Consumer;
  readonly #logger: Logger;
  readonly #clientId: string;
  readonly #lanes = new Set<ConnectionPool>();
  readonly #idleLanes: ConnectionPool[] = [];
  readonly #laneWaiters: ((lane: ConnectionPool) => void)[] = [];
  #closed = false;

  constructor(brokers: string[], clientId: string, logger: Logger) {
    this.#clientId = clientId;
    this.#logger = logger;
    // The group id is required by the client but never used: this consumer joins no group.
    this.#consumer = new Consumer({
      clientId,
      groupId: `${clientId}-reader`,
      bootstrapBrokers: brokers,
      retries: 2,
      retryDelay: 200,
      timeout: 5000,
    });
  }

  /** Returns cluster metadata with the given topics; `refresh` skips the client's cache. */
  async metadata(topics: string[], refresh = false): Promise<ClusterMetadata> {
    return this.#consumer.metadata({ topics, forceUpdate: refresh });
  }

  /** Returns the earliest and latest offsets of every partition of `topic`. */
  async offsets(topic: string): Promise<TopicOffsets> {
    const [earliest, latest] = await Promise.all([
      this.#consumer.listOffsets({ topics: [topic], timestamp: -2n }),
      this.#consumer.listOffsets({ topics: [topic], timestamp: -1n }),
    ]);
    return {
      earliest: (earliest.get(topic) ?? []).map(Number),
      latest: (latest.get(topic) ?? []).map(Number),
    };
  }

  /** Returns the next offset to be written (the high watermark) of every partition of `topic`. */
  async latestOffsets(topic: string): Promise<number[]> {
    const latest = await this.#consumer.listOffsets({ topics: [topic], timestamp: -1n });
    return (latest.get(topic) ?? []).map(Number);
  }

  /** Returns, per partition, the offset of the first record stored at or after `timestamp` (Unix ms). */
  async offsetsForTime(topic: string, timestamp: number): Promise<number[]> {
    const offsets = await this.#consumer.listOffsets({ topics: [topic], timestamp: BigInt(timestamp) });
    return (offsets.get(topic) ?? []).map(Number);
  }

  /**
   * Fetches records from each requested position. The broker waits up to `maxWaitMs` until any
   * partition has data. Partitions led by different brokers go out as one request per broker, and
   * the call returns when one of them brought records or all of them finished.
   */
  async fetch(requests: readonly FetchRequest[], options: FetchOptions): Promise<FetchedRecord[]> {
    if (requests.length === 0) {
      return [];
    }
    try {
      return await this.#fetchOnce(requests, options, false);
    } catch (error) {
      if (!isUnknownTopic(error)) {
        throw error;
      }
      // The client's metadata may name a topic that was deleted and created again since.
      return this.#fetchOnce(requests, options, true);
    }
  }

  async #fetchOnce(requests: readonly FetchRequest[], options: FetchOptions, refresh: boolean): Promise<FetchedRecord[]> {
    const topics = [...new Set(requests.map((request) => request.topic))];
    let metadata = await this.metadata(topics, refresh);
    if (topics.some((topic) => !metadata.topics.has(topic))) {
      metadata = await this.metadata(topics, true);
    }
    const byNode = groupByLeader(metadata, requests);
    const pending = [...byNode].map(([node, nodeRequests]) => this.#fetchFromNode(metadata, node, nodeRequests, options));
    return firstWithRecords(pending);
  }

  /** Closes every connection. Fetches in flight reject. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    const lanes = [...this.#lanes];
    this.#lanes.clear();
    this.#idleLanes.length = 0;
    await Promise.allSettled([...lanes.map((lane) => lane.close()), this.#consumer.close(true)]);
  }

  async #fetchFromNode(
    metadata: ClusterMetadata,
    node: number,
    requests: readonly FetchRequest[],
    options: FetchOptions,
  ): Promise<FetchedRecord[]> {
    const topicsById = new Map<string, string>();
    const byTopic = new Map<string, FetchRequest[]>();
    for (const request of requests) {
      const list = byTopic.get(request.topic) ?? [];
      list.push(request);
      byTopic.set(request.topic, list);
    }
    const topics = [...byTopic].map(([topic, list]) => {
      const topicId = metadata.topics.get(topic)!.id;
      topicsById.set(topicId, topic);
      return {
        topicId,
        partitions: list.map((request) => ({
          partition: request.partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(request.offset),
          lastFetchedEpoch: -1,
          partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024,
        })),
      };
    });

    const lane = await this.#acquireLane();
    try {
      const response = await this.#consumer.fetch({
        node,
        topics,
        maxWaitTime: Math.min(options.maxWaitMs, maxFetchWaitMs),
        minBytes: 1,
        connectionPool: lane,
      });
      // A fetch returns whole record batches, which may begin before the requested offset.
      const from = new Map(requests.map((request) => [`${request.topic}:${request.partition}`, request.offset]));
      return decodeResponse(response, topicsById).filter(
        (record) => record.offset >= (from.get(`${record.topic}:${record.partition}`) ?? 0),
      );
    } catch (error) {
      if (isUnknownTopic(error)) {
        // A deleted topic leaves stale ids in the client's metadata cache.
        this.#consumer.clearMetadata();
      }
      throw error;
    } finally {
      this.#releaseLane(lane);
    }
  }

  async #acquireLane(): Promise<ConnectionPool> {
    if (this.#closed) {
      throw new Error('the log reader is closed');
    }
    const idle = this.#idleLanes.pop();
    if (idle !== undefined) {
      return idle;
    }
    if (this.#lanes.size < maxLanes) {
      const lane = new ConnectionPool(`${this.#clientId}-lane-${this.#lanes.size + 1}`);
      this.#lanes.add(lane);
      return lane;
    }
    this.#logger.debug({ lanes: this.#lanes.size }, 'every fetch connection is busy; waiting for one');
    return new Promise((resolve) => this.#laneWaiters.push(resolve));
  }

  #releaseLane(lane: ConnectionPool): void {
    if (this.#closed) {
      return;
    }
    const waiter = this.#laneWaiters.shift();
    if (waiter !== undefined) {
      waiter(lane);
    } else {
      this.#idleLanes.push(lane);
    }
  }
}

function groupByLeader(metadata: ClusterMetadata, requests: readonly FetchRequest[]): Map<number, FetchRequest[]> {
  const byNode = new Map<number, FetchRequest[]>();
  for (const request of requests) {
    const topic = metadata.topics.get(request.topic);
    const leader = topic?.partitions[request.partition]?.leader;
    if (leader === undefined) {
      throw new Error(`No leader is known for partition ${request.partition} of topic ${request.topic}`);
    }
    const list = byNode.get(leader) ?? [];
    list.push(request);
    byNode.set(leader, list);
  }
  return byNode;
}

/** Resolves with the first non-empty result, or with nothing once every fetch is done. */
async function firstWithRecords(pending: Promise<FetchedRecord[]>[]): Promise<FetchedRecord[]> {
  if (pending.length === 1) {
    return pending[0]!;
  }
  const { promise, resolve, reject } = Promise.withResolvers<FetchedRecord[]>();
  let remaining = pending.length;
  for (const fetch of pending) {
    fetch.then(
      (records) => {
        remaining--;
        if (records.length > 0 || remaining === 0) {
          resolve(records);
        }
      },
      (error: unknown) => reject(error),
    );
  }
  return promise;
}

function decodeResponse(response: Awaited<ReturnType<Consumer['fetch']>>, topicsById: Map<string, string>): FetchedRecord[] {
  const records: FetchedRecord[] = [];
  for (const topicResponse of response.responses) {
    const topic = topicsById.get(topicResponse.topicId) ?? topicResponse.topicId;
    for (const partition of topicResponse.partitions) {
      for (const batch of partition.records ?? []) {
        // Control batches mark transaction ends; they hold no messages.
        if ((batch.attributes & 0x20) !== 0) {
          continue;
        }
        for (const record of batch.records) {
          const headers = new Map<string, string>();
          for (const [name, value] of record.headers) {
            if (name !== null) {
              headers.set(name.toString('utf8'), value === null ? '' : value.toString('utf8'));
            }
          }
          records.push({
            topic,
            partition: partition.partitionIndex,
            offset: Number(batch.firstOffset) + record.offsetDelta,
            timestamp: Number(batch.firstTimestamp + record.timestampDelta),
            key: record.key === null ? null : record.key.toString('utf8'),
            value: record.value === null ? null : record.value.toString('utf8'),
            headers,
          });
        }
      }
    }
  }
  return records;
}
