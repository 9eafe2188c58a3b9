import type { Quarantine, QuarantinedRecord } from '../engine.ts';
import {
  fromQuarantinedMessageJson,
  stringifyQuarantineEntry,
  toQuarantinedMessageJson,
  type QuarantinedMessageJson,
} from '../quarantine-codec.ts';
import { checkListLimit, checkQuarantinedRecord, checkQueueName } from '../request-checks.ts';
import type { SqliteEngineAccess } from './engine-access.ts';
import { requireQueue } from './queues.ts';

interface QuarantineRow {
  partition: number;
  offset: number;
  message: string;
  reason: string;
  quarantined_at: number;
}

/**
 * The quarantine on SQLite: the `quarantine` table, unique per (queue, partition, offset). Deleting
 * or purging a queue deletes its rows in the same transaction (see queues.ts).
 */
export class SqliteQuarantine implements Quarantine {
  readonly #engine: SqliteEngineAccess;

  constructor(engine: SqliteEngineAccess) {
    this.#engine = engine;
  }

  async add(record: Omit<QuarantinedRecord, 'quarantinedAt'>): Promise<void> {
    this.#engine.requireOpen('addToQuarantine');
    checkQuarantinedRecord(record);
    const message = stringifyQuarantineEntry(toQuarantinedMessageJson(record.message));
    await this.#engine.write('addToQuarantine', (context) => {
      const queue = requireQueue(context, record.queue);
      context.run(
        `INSERT INTO quarantine (queue_id, partition, offset, message, reason, quarantined_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (queue_id, partition, offset) DO NOTHING`,
        queue.queue_id,
        record.partition,
        record.offset,
        message,
        record.reason,
        context.now(),
      );
    });
  }

  async list(queue: string, limit: number): Promise<QuarantinedRecord[]> {
    this.#engine.requireOpen('listQuarantine');
    checkQueueName(queue);
    checkListLimit(limit);
    const rows = this.#engine.read('listQuarantine', (context) =>
      context.all<QuarantineRow>(
        `SELECT partition, offset, message, reason, quarantined_at FROM quarantine
         WHERE queue_id = ? ORDER BY quarantine_id LIMIT ?`,
        requireQueue(context, queue).queue_id,
        limit,
      ),
    );
    return rows.map((row) => ({
      queue,
      partition: row.partition,
      offset: row.offset,
      message: fromQuarantinedMessageJson(JSON.parse(row.message) as QuarantinedMessageJson),
      reason: row.reason,
      quarantinedAt: new Date(row.quarantined_at),
    }));
  }
}
