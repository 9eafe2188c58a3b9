import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { errors, isEvqError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';

/** One write waiting for the next transaction. */
interface WriteRequest {
  operation: string;
  queue: string | null;
  run(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions {
  /** Messages (or other units that callers give as `size`) that make a batch commit at once. Default 5000. */
  maxBatchSize?: number;
}

/**
 * Runs the writes that arrive during one turn of the event loop in one SQLite transaction, so
 * concurrent callers share the cost of a commit. Each write runs inside its own savepoint: a write
 * that throws is rolled back alone and rejects alone, while the others still commit. Every caller
 * is resolved only after COMMIT; when the transaction fails, all of them reject with
 * ENGINE_UNAVAILABLE and nothing is reported stored.
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #logger: Logger;
  readonly #maxBatchSize: number;
  readonly #statements: {
    begin: StatementSync;
    commit: StatementSync;
    savepoint: StatementSync;
    release: StatementSync;
    rollbackToSavepoint: StatementSync;
  };
  #pending: WriteRequest[] = [];
  #pendingSize = 0;
  #scheduled: NodeJS.Immediate | null = null;
  #closed = false;

  constructor(db: DatabaseSync, logger: Logger, options: GroupCommitOptions = {}) {
    this.#db = db;
    this.#logger = logger;
    this.#maxBatchSize = options.maxBatchSize ?? 5000;
    this.#statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      savepoint: db.prepare('SAVEPOINT write'),
      release: db.prepare('RELEASE write'),
      rollbackToSavepoint: db.prepare('ROLLBACK TO write'),
    };
  }

  /**
   * Queues `run` for the next transaction and resolves with its result after COMMIT. `run` must be
   * synchronous. `queue` names the queue in logs; `size` counts toward the batch limit.
   */
  submit<T>(operation: string, queue: string | null, run: () => T, size = 1): Promise<T> {
    if (this.#closed) {
      return Promise.reject(errors.engineUnavailable(operation, new Error('the engine is closed')));
    }
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#pending.push({ operation, queue, run, resolve: resolve as (value: unknown) => void, reject });
    this.#pendingSize += size;
    if (this.#pendingSize >= this.#maxBatchSize) {
      this.flush();
    } else {
      this.#scheduled ??= setImmediate(() => this.flush());
    }
    return promise;
  }

  /** Commits every queued write now. */
  flush(): void {
    if (this.#scheduled !== null) {
      clearImmediate(this.#scheduled);
      this.#scheduled = null;
    }
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingSize = 0;
    if (batch.length > 0) {
      this.#commit(batch);
    }
  }

  /** Commits what is queued and rejects later writes with ENGINE_UNAVAILABLE. Idempotent. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  #commit(batch: WriteRequest[]): void {
    const committed: { request: WriteRequest; value: unknown }[] = [];
    let next = 0;
    try {
      this.#statements.begin.run();
      for (; next < batch.length; next++) {
        const request = batch[next]!;
        const outcome = this.#runInSavepoint(request);
        if (outcome !== null) {
          committed.push({ request, value: outcome.value });
        }
      }
      this.#statements.commit.run();
    } catch (error) {
      this.#rollback();
      const unsettled = [...committed.map((entry) => entry.request), ...batch.slice(next)];
      this.#failAll(unsettled, error);
      return;
    }
    for (const { request, value } of committed) {
      request.resolve(value);
    }
  }

  /**
   * Runs one write in a savepoint. When it throws, rolls it back, rejects its caller and returns
   * null. Throws when SQLite has rolled back the whole transaction, as it does on some I/O errors.
   */
  #runInSavepoint(request: WriteRequest): { value: unknown } | null {
    this.#statements.savepoint.run();
    try {
      const value = request.run();
      this.#statements.release.run();
      return { value };
    } catch (error) {
      if (!this.#db.isTransaction) {
        throw error;
      }
      this.#statements.rollbackToSavepoint.run();
      this.#statements.release.run();
      if (isEvqError(error)) {
        request.reject(error);
      } else {
        this.#logger.error({ err: error, operation: request.operation, queue: request.queue }, 'write failed');
        request.reject(errors.engineUnavailable(request.operation, error));
      }
      return null;
    }
  }

  #failAll(requests: WriteRequest[], error: unknown): void {
    const queues = [...new Set(requests.map((request) => request.queue).filter((queue) => queue !== null))];
    this.#logger.error({ err: error, queues, writes: requests.length }, 'transaction failed');
    for (const request of requests) {
      request.reject(errors.engineUnavailable(request.operation, error));
    }
  }

  #rollback(): void {
    if (!this.#db.isTransaction) {
      return;
    }
    try {
      this.#db.exec('ROLLBACK');
    } catch (error) {
      this.#logger.error({ err: error }, 'rollback failed');
    }
  }
}
