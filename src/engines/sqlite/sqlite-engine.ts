import { DatabaseSync } from 'node:sqlite';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { errors, isEvqError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type {
  AckOutcome,
  AppendResult,
  DeadLetter,
  Engine,
  Lease,
  NewMessage,
  Position,
  QueueConfig,
  QueueSettings,
  QueueStats,
  ReadEntry,
  ReadOptions,
  ReadResult,
  ReadStart,
  ReceiveOptions,
} from '../engine.ts';
import { Partitioner } from '../partitioner.ts';
import { appendMessages, checkDedupWindow } from './append.ts';
import { SqliteContext } from './context.ts';
import type { SqliteEngineAccess } from './engine-access.ts';
import { listDeadLetters, redriveDeadLetters } from './dead-letters.ts';
import { DedupIndex } from './dedup.ts';
import { GroupCommit } from './group-commit.ts';
import { ackReceipts, expireQueueLeases, extendLease, nackReceipt } from './leases.ts';
import { SqliteNonceClaims } from './nonce-claims.ts';
import { Notifier } from './notifier.ts';
import { SqliteQuarantine } from './quarantine.ts';
import { checkReadOptions, checkReceiveOptions } from '../request-checks.ts';
import {
  deleteQueueRows,
  findQueue,
  insertQueue,
  listQueueRows,
  purgeQueueRows,
  requireQueue,
  toQueueConfig,
  updateQueueRow,
} from './queues.ts';
import { applyRetention } from './retention.ts';
import { SqliteSharedRecords } from './shared-records.ts';
import { queueStats } from './stats.ts';
import { readStream, resolveStart } from './stream.ts';
import { configureConnection, migrate } from './schema.ts';
import { receiveMessages } from './work-queue.ts';

export interface SqliteEngineOptions {
  /** Database file path, or ':memory:' for a database that lives as long as the engine. */
  path: string;
  /**
   * SQLite's `synchronous` level in WAL mode. 'normal' (default) keeps every commit through a crash
   * of the process; 'full' also through a power loss, at the cost of an fsync per commit.
   */
  sync?: 'normal' | 'full';
  logger: Logger;
  /** The clock, in Unix milliseconds. Default `Date.now`. */
  now?: () => number;
  /**
   * Interval of the background sweep that applies retention and expires dedup entries and nonce
   * claims, in ms. Default 1000.
   */
  sweepIntervalMs?: number;
  /** Messages that make a group commit run at once instead of at the end of the event-loop turn. Default 5000. */
  maxBatchSize?: number;
}

/** Messages per batch that `tail` yields at most. */
const tailBatchSize = 500;

/**
 * The embedded engine: every queue in one SQLite database in WAL mode, through `node:sqlite`.
 * Writes go through a group commit, so concurrent callers share transactions. Reads run at once
 * on the same connection and never see a half-done transaction, because both are synchronous.
 */
export class SqliteEngine implements Engine {
  readonly kind = 'sqlite' as const;
  readonly records: SqliteSharedRecords;
  readonly nonces: SqliteNonceClaims;
  readonly quarantine: SqliteQuarantine;
  readonly #options: SqliteEngineOptions;
  readonly #logger: Logger;
  readonly #notifier = new Notifier();
  readonly #partitioner = new Partitioner();
  readonly #dedup = new DedupIndex();
  #database: DatabaseSync | null = null;
  #context: SqliteContext | null = null;
  #commit: GroupCommit | null = null;
  #sweepTimer: NodeJS.Timeout | null = null;
  #sweeping = false;
  #closing: Promise<void> | null = null;

  constructor(options: SqliteEngineOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'sqlite-engine' });
    const access: SqliteEngineAccess = {
      requireOpen: (operation) => this.#requireOpen(operation),
      read: (operation, run) => this.#readNow(operation, run),
      write: (operation, run) => this.#write(operation, null, run),
    };
    this.records = new SqliteSharedRecords(access, this.#logger);
    this.nonces = new SqliteNonceClaims(access);
    this.quarantine = new SqliteQuarantine(access);
  }

  async start(): Promise<void> {
    if (this.#database !== null || this.#closing !== null) {
      throw new Error('SqliteEngine.start() may be called once.');
    }
    const { path, sync = 'normal' } = this.#options;
    let database: DatabaseSync | null = null;
    try {
      database = new DatabaseSync(path);
      configureConnection(database, sync);
      migrate(database);
      const context = new SqliteContext(database, this.#options.now ?? Date.now);
      this.#dedup.load(context);
      this.#database = database;
      this.#context = context;
    } catch (error) {
      database?.close();
      this.#logger.error({ err: error, path }, 'opening the database failed');
      throw errors.engineUnavailable('start', error);
    }
    this.#commit = new GroupCommit(this.#database, this.#options.logger.child({ component: 'sqlite-group-commit' }), {
      maxBatchSize: this.#options.maxBatchSize,
    });
    this.#sweepTimer = setInterval(() => void this.#sweep(), this.#options.sweepIntervalMs ?? 1000);
    this.#sweepTimer.unref();
    // Loaded last, so that listeners which run during the load can already read and write records.
    try {
      this.records.load(this.#context!);
    } catch (error) {
      this.#logger.error({ err: error, path }, 'loading the shared records failed');
      await this.close();
      throw errors.engineUnavailable('start', error);
    }
    this.#logger.info({ path, sync }, 'sqlite engine started');
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async isReady(): Promise<boolean> {
    if (this.#context === null || this.#closing !== null) {
      return false;
    }
    try {
      this.#context.get('SELECT 1');
      return true;
    } catch (error) {
      this.#logger.warn({ err: error }, 'readiness check failed');
      return false;
    }
  }

  async createQueue(name: string, settings: QueueSettings): Promise<QueueConfig> {
    return this.#write('createQueue', name, (context) => toQueueConfig(insertQueue(context, name, settings)));
  }

  async updateQueue(name: string, settings: QueueSettings): Promise<QueueConfig> {
    return this.#write('updateQueue', name, (context) => toQueueConfig(updateQueueRow(context, name, settings)));
  }

  async deleteQueue(name: string): Promise<boolean> {
    const row = await this.#write('deleteQueue', name, (context) => deleteQueueRows(context, name));
    if (row === undefined) {
      return false;
    }
    this.#partitioner.forget(name);
    this.#dedup.forgetQueue(row.queue_id);
    this.#notifier.notify(name);
    return true;
  }

  async getQueue(name: string): Promise<QueueConfig | null> {
    const row = this.#readNow('getQueue', (context) => findQueue(context, name));
    return row === undefined ? null : toQueueConfig(row);
  }

  async listQueues(prefix = ''): Promise<QueueConfig[]> {
    return this.#readNow('listQueues', (context) => listQueueRows(context, prefix).map(toQueueConfig));
  }

  async stats(queue: string, group: string): Promise<QueueStats> {
    return this.#readNow('stats', (context) => queueStats(context, requireQueue(context, queue), group));
  }

  async purgeQueue(queue: string): Promise<void> {
    await this.#write('purgeQueue', queue, (context) => purgeQueueRows(context, queue));
    this.#notifier.notify(queue);
  }

  async append(queue: string, messages: NewMessage[], dedupWindowMs: number): Promise<AppendResult[]> {
    checkDedupWindow(dedupWindowMs);
    const results = await this.#write(
      'append',
      queue,
      (context) =>
        appendMessages(context, this.#dedup, this.#partitioner, requireQueue(context, queue), messages, dedupWindowMs),
      messages.length,
    );
    if (results.some((result) => !result.duplicate)) {
      this.#notifier.notify(queue);
    }
    return results;
  }

  async resolve(queue: string, start: ReadStart): Promise<Position> {
    return this.#readNow('resolve', (context) => resolveStart(context, requireQueue(context, queue), start));
  }

  async read(queue: string, start: ReadStart, options: ReadOptions): Promise<ReadResult> {
    checkReadOptions(options);
    const deadline = performance.now() + (options.waitMs ?? 0);
    let from = start;
    for (;;) {
      const seen = this.#notifier.version(queue);
      const { position, result } = this.#readNow('read', (context) => {
        const row = requireQueue(context, queue);
        const resolved = resolveStart(context, row, from);
        return { position: resolved, result: readStream(context, row, resolved, options.limit, options.key ?? null) };
      });
      const remaining = deadline - performance.now();
      if (result.entries.length > 0 || remaining <= 0 || options.signal?.aborted || this.#notifier.closed) {
        return result;
      }
      from = result.next;
      // A key filter can move the position without finding a match; keep scanning before sleeping.
      if (result.next.some((offset, partition) => offset !== position[partition])) {
        await nextTurn();
      } else {
        await this.#notifier.wait(queue, seen, remaining, options.signal);
      }
      if (this.#notifier.closed) {
        return { entries: [], next: result.next };
      }
    }
  }

  async *tail(queue: string, start: ReadStart, signal: AbortSignal): AsyncIterable<ReadEntry[]> {
    const origin = this.#readNow('tail', (context) => {
      const row = requireQueue(context, queue);
      return { queueId: row.queue_id, position: resolveStart(context, row, start) };
    });
    let position = origin.position;
    while (!signal.aborted && !this.#notifier.closed) {
      const seen = this.#notifier.version(queue);
      const result = this.#readNow('tail', (context) => {
        const row = findQueue(context, queue);
        // A queue deleted (and perhaps created again under the same name) ends the tail.
        return row?.queue_id === origin.queueId ? readStream(context, row, position, tailBatchSize, null) : null;
      });
      if (result === null) {
        return;
      }
      if (result.entries.length > 0) {
        position = result.next;
        yield result.entries;
      } else {
        await this.#notifier.wait(queue, seen, Infinity, signal);
      }
    }
  }

  async receive(queue: string, group: string, options: ReceiveOptions): Promise<Lease[]> {
    checkReceiveOptions(options);
    const visibilityMs = Math.round(options.visibilitySeconds * 1000);
    const deadline = performance.now() + (options.waitMs ?? 0);
    for (;;) {
      const { seen, outcome } = await this.#write('receive', queue, (context) => ({
        seen: this.#notifier.version(queue),
        outcome: receiveMessages(context, requireQueue(context, queue), group, options.limit, visibilityMs),
      }));
      const remaining = deadline - performance.now();
      if (outcome.leases.length > 0 || remaining <= 0 || options.signal?.aborted || this.#notifier.closed) {
        return outcome.leases;
      }
      const untilDue = outcome.nextDueAt === null ? Infinity : Math.max(outcome.nextDueAt - this.#now(), 0);
      await this.#notifier.wait(queue, seen, Math.min(remaining, untilDue), options.signal);
      if (this.#notifier.closed) {
        return [];
      }
    }
  }

  async ack(queue: string, receipts: string[]): Promise<AckOutcome[]> {
    return this.#write('ack', queue, (context) => ackReceipts(context, requireQueue(context, queue), receipts));
  }

  async nack(queue: string, receipt: string, delaySeconds: number, error?: string | null): Promise<void> {
    await this.#write('nack', queue, (context) =>
      nackReceipt(context, requireQueue(context, queue), receipt, delaySeconds, error ?? null),
    );
    this.#notifier.notify(queue);
  }

  async extendVisibility(queue: string, receipt: string, seconds: number): Promise<Date> {
    const visibleUntil = await this.#write('extendVisibility', queue, (context) =>
      extendLease(context, requireQueue(context, queue), receipt, seconds),
    );
    // A shorter lease may end before the timers of waiting receivers.
    this.#notifier.notify(queue);
    return visibleUntil;
  }

  async deadLetters(queue: string, after: number | null, limit: number): Promise<DeadLetter[]> {
    return this.#write('deadLetters', queue, (context) => {
      const row = requireQueue(context, queue);
      expireQueueLeases(context, row, context.now());
      return listDeadLetters(context, row, after, limit);
    });
  }

  async redrive(queue: string, limit: number): Promise<number> {
    const moved = await this.#write('redrive', queue, (context) => {
      const row = requireQueue(context, queue);
      expireQueueLeases(context, row, context.now());
      return redriveDeadLetters(context, row, limit);
    });
    if (moved > 0) {
      this.#notifier.notify(queue);
    }
    return moved;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** Queues a write for the next group commit. Rejects with ENGINE_UNAVAILABLE when the engine is not open. */
  #write<T>(operation: string, queue: string | null, run: (context: SqliteContext) => T, size = 1): Promise<T> {
    const context = this.#requireOpen(operation);
    return this.#commit!.submit(operation, queue, () => run(context), size);
  }

  /** Runs a read at once. Storage errors become ENGINE_UNAVAILABLE. */
  #readNow<T>(operation: string, run: (context: SqliteContext) => T): T {
    const context = this.#requireOpen(operation);
    try {
      return run(context);
    } catch (error) {
      if (isEvqError(error)) {
        throw error;
      }
      this.#logger.error({ err: error, operation }, 'read failed');
      throw errors.engineUnavailable(operation, error);
    }
  }

  #requireOpen(operation: string): SqliteContext {
    if (this.#context === null || this.#closing !== null) {
      throw errors.engineUnavailable(operation, new Error('the engine is not started or already closed'));
    }
    return this.#context;
  }

  /** Applies retention to every queue, then expires dedup entries and nonce claims, each in bounded chunks. */
  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#closing !== null) {
      return;
    }
    this.#sweeping = true;
    try {
      const names = this.#readNow('retention', (context) => listQueueRows(context, '').map((row) => row.name));
      for (const name of names) {
        let more = true;
        while (more && this.#closing === null) {
          const outcome = await this.#write('retention', name, (context) => {
            const row = findQueue(context, name);
            return row === undefined ? { deleted: 0, more: false } : applyRetention(context, row);
          });
          more = outcome.more;
        }
      }
      let more = true;
      while (more && this.#closing === null) {
        more = await this.#write('dedup cleanup', null, (context) => this.#dedup.sweep(context));
      }
      more = true;
      while (more && this.#closing === null) {
        more = await this.#write('nonce cleanup', null, (context) => this.nonces.sweep(context));
      }
    } catch (error) {
      if (this.#closing === null) {
        this.#logger.error({ err: error }, 'sweep failed');
      }
    } finally {
      this.#sweeping = false;
    }
  }

  async #shutdown(): Promise<void> {
    if (this.#sweepTimer !== null) {
      clearInterval(this.#sweepTimer);
    }
    this.#notifier.close();
    this.#commit?.close();
    this.#database?.close();
    this.#context = null;
    this.#logger.info({ path: this.#options.path }, 'sqlite engine closed');
  }
}
