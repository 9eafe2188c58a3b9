import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from '@platformatic/kafka';
import { errors } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { maxNonceWindowMs, type NonceClaims } from '../engine.ts';
import { checkNonceClaim } from '../request-checks.ts';
import { ClaimHolders, type ClaimRecord } from './claim-holders.ts';
import { hasKafkaError } from './client-errors.ts';
import type { EngineGate } from './engine-gate.ts';
import { createSinglePartitionTopic } from './internal-topic.ts';
import type { LogReader } from './log-reader.ts';
import type { FetchedRecord } from './message-codec.ts';
import type { ProduceBatcher } from './produce-batcher.ts';

/** The engine's Kafka clients that the nonce claims read and write through. */
export interface NonceClaimsClients {
  admin: Admin;
  reader: LogReader;
  batcher: ProduceBatcher;
  logger: Logger;
}

/** Header names of a claim record. The record key is the claimed key and the value is its owner. */
const claimHeaders = {
  windowMs: 'evq-window-ms',
  /** A random id per call, by which the claiming instance finds its record when it reads it back. */
  claimId: 'evq-claim-id',
} as const;

/** How long a claim waits, after the broker acknowledged it, to read its record back, in ms. */
const readBackTimeoutMs = 10_000;
/** How long one fetch of the follow loop lets the broker wait for new records, in ms. */
const followWaitMs = 5000;
/** Pause after a failed fetch before the next try, in ms. */
const retryDelayMs = 1000;

interface ReadBackWaiter {
  resolve(owner: string): void;
  reject(error: unknown): void;
  timer?: NodeJS.Timeout;
}

/**
 * The replay cache on Kafka: a single-partition topic with one record per claim, deleted after one
 * day. Every instance follows the topic and decides each claim from the records in offset order
 * (see ClaimHolders), so instances that claim one key at once agree on the owner of the earlier
 * offset. A claim resolves after this instance has read its own record back.
 *
 * At start an instance reads from `maxWindowMs` back, found by the broker's offset-for-timestamp
 * lookup, so claims made before a restart still hold.
 *
 * NOTE: an instance that starts later does not see claims older than `maxWindowMs`. When claims of
 * one key kept taking it from each other over a longer span, it may decide a claim differently
 * than an instance that read them all. Claims of one nonce within one signature skew window do
 * not reach that case.
 */
export class KafkaNonceClaims implements NonceClaims {
  readonly #topic: string;
  readonly #clients: NonceClaimsClients;
  readonly #logger: Logger;
  readonly #gate: EngineGate;
  readonly #maxWindowMs: number;
  readonly #holders = new ClaimHolders();
  /** Claims of this instance that wait for their record, by claim id. */
  readonly #waiters = new Map<string, ReadBackWaiter>();
  readonly #stop = new AbortController();
  #nextOffset = 0;
  /** True after retention removed records before `#nextOffset`; the loop then finds its start again. */
  #lostPosition = false;
  #following: Promise<void> | null = null;

  /** `maxWindowMs` is the widest window that `claim` accepts and how far back `start` reads. */
  constructor(topic: string, clients: NonceClaimsClients, gate: EngineGate, maxWindowMs: number) {
    if (!(maxWindowMs > 0 && maxWindowMs <= maxNonceWindowMs)) {
      throw new RangeError(
        `Invalid maxNonceWindowMs: ${maxWindowMs}; expected milliseconds above 0 and at most ${maxNonceWindowMs}.`,
      );
    }
    this.#topic = topic;
    this.#clients = clients;
    this.#logger = clients.logger.child({ topic });
    this.#gate = gate;
    this.#maxWindowMs = maxWindowMs;
  }

  /** Creates the topic when missing, finds where to start reading, then follows it in the background. */
  async start(): Promise<void> {
    const created = await createSinglePartitionTopic(this.#clients.admin, this.#topic, [
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'retention.ms', value: String(maxNonceWindowMs) },
    ]);
    if (created) {
      this.#logger.info('created the nonce topic');
    }
    this.#nextOffset = await this.#startOffset();
    this.#following = this.#follow();
  }

  /**
   * Stops following the topic and rejects the claims still waiting for their record with
   * ENGINE_UNAVAILABLE. Idempotent. Settles after the fetch in flight ended, which happens when the
   * log reader closes.
   */
  close(): Promise<void> {
    this.#stop.abort();
    for (const [claimId, waiter] of this.#waiters) {
      this.#waiters.delete(claimId);
      clearTimeout(waiter.timer);
      waiter.reject(errors.engineUnavailable('claimNonce', new Error('the engine closed before the claim was read back')));
    }
    return this.#following ?? Promise.resolve();
  }

  claim(key: string, owner: string, windowMs: number): Promise<string> {
    return this.#gate.run('claimNonce', async () => {
      checkNonceClaim(key, owner, windowMs, this.#maxWindowMs);
      const claimId = randomUUID();
      const { promise: readBack, resolve, reject } = Promise.withResolvers<string>();
      // The follow loop may read the record before the broker's acknowledgement arrives here, so
      // the waiter goes in first. close() may reject it while the send is pending, so a handler is
      // attached now, and the caller still gets the rejection from `return readBack`.
      readBack.catch(() => {});
      const waiter: ReadBackWaiter = { resolve, reject };
      this.#waiters.set(claimId, waiter);
      try {
        await this.#clients.batcher.send('claimNonce', [
          {
            topic: this.#topic,
            partition: 0,
            key,
            value: owner,
            headers: { [claimHeaders.windowMs]: String(windowMs), [claimHeaders.claimId]: claimId },
            timestamp: BigInt(Date.now()),
          },
        ]);
      } catch (error) {
        this.#waiters.delete(claimId);
        throw error;
      }
      if (this.#waiters.has(claimId)) {
        waiter.timer = setTimeout(() => {
          this.#waiters.delete(claimId);
          const timeout = new Error(`the claim was not read back from the nonce topic within ${readBackTimeoutMs} ms`);
          this.#logger.warn({ err: timeout, offset: this.#nextOffset }, 'reading a claim back timed out');
          reject(errors.engineUnavailable('claimNonce', timeout));
        }, readBackTimeoutMs);
      }
      return readBack;
    });
  }

  /** Returns the offset of the first claim made at most `maxWindowMs` ago, or the end of the topic. */
  async #startOffset(): Promise<number> {
    const [offset] = await this.#clients.reader.offsetsForTime(this.#topic, Date.now() - this.#maxWindowMs);
    // The broker returns -1 when no record is that recent.
    if (offset !== undefined && offset >= 0) {
      return offset;
    }
    const [latest] = await this.#clients.reader.latestOffsets(this.#topic);
    return latest ?? 0;
  }

  async #follow(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        if (this.#lostPosition) {
          this.#nextOffset = await this.#startOffset();
          this.#lostPosition = false;
        }
        const records = await this.#clients.reader.fetch([{ topic: this.#topic, partition: 0, offset: this.#nextOffset }], {
          maxWaitMs: followWaitMs,
        });
        this.#apply(records);
      } catch (error) {
        if (signal.aborted) {
          return;
        }
        if (hasKafkaError(error, 'OFFSET_OUT_OF_RANGE')) {
          this.#logger.warn(
            { offset: this.#nextOffset },
            'retention removed claims before this instance read them; reading on from one window back',
          );
          this.#lostPosition = true;
          continue;
        }
        this.#logger.warn({ err: error }, 'following the nonce topic failed; retrying');
        await sleep(retryDelayMs, undefined, { signal }).catch(() => {});
      }
    }
  }

  #apply(records: readonly FetchedRecord[]): void {
    for (const record of records) {
      this.#nextOffset = record.offset + 1;
      const claim = parseClaim(record);
      if (claim === null) {
        this.#logger.warn({ offset: record.offset }, 'skipped a record of the nonce topic that is not a claim');
        continue;
      }
      const holder = this.#holders.apply(claim);
      const claimId = record.headers.get(claimHeaders.claimId);
      const waiter = claimId === undefined ? undefined : this.#waiters.get(claimId);
      if (waiter !== undefined) {
        this.#waiters.delete(claimId!);
        clearTimeout(waiter.timer);
        waiter.resolve(holder);
      }
    }
    this.#holders.prune();
  }
}

/** Returns the claim a record stores, or null for a record without a key, owner or valid window. */
function parseClaim(record: FetchedRecord): ClaimRecord | null {
  const windowMs = Number(record.headers.get(claimHeaders.windowMs));
  if (record.key === null || record.value === null || !(windowMs > 0)) {
    return null;
  }
  return { key: record.key, owner: record.value, timestamp: record.timestamp, windowMs };
}
