import type { Logger } from '../../observability/logger.ts';
import type { SharedRecord, SharedRecords } from '../engine.ts';
import { RecordMap, type ChangeListener } from '../record-map.ts';
import { checkRecordKey, checkRecordPrefix, checkRecordValue } from '../request-checks.ts';
import type { SqliteContext } from './context.ts';
import type { SqliteEngineAccess } from './engine-access.ts';

/**
 * The shared records on SQLite: the `shared_records` table, loaded into memory at start. A write
 * changes the memory copy only after its transaction has committed, so a rolled-back write is
 * never served. Changes reach only this process, because SQLite does not notify other connections.
 */
export class SqliteSharedRecords implements SharedRecords {
  readonly #values: RecordMap<string>;
  readonly #engine: SqliteEngineAccess;

  constructor(engine: SqliteEngineAccess, logger: Logger) {
    this.#engine = engine;
    this.#values = new RecordMap(logger);
  }

  /** Reads every record into memory. Listeners added before this get each record as a put. */
  load(context: SqliteContext): void {
    const rows = context.all<{ key: string; value: string }>('SELECT key, value FROM shared_records');
    for (const row of rows) {
      this.#values.apply(row.key, row.value);
    }
  }

  get(key: string): string | null {
    this.#engine.requireOpen('getRecord');
    return this.#values.get(key);
  }

  list(prefix: string): SharedRecord[] {
    this.#engine.requireOpen('listRecords');
    checkRecordPrefix(prefix);
    return this.#values.entries(prefix).map(([key, value]) => ({ key, value }));
  }

  async put(key: string, value: string): Promise<void> {
    this.#engine.requireOpen('putRecord');
    checkRecordKey(key);
    checkRecordValue(value);
    await this.#engine.write('putRecord', (context) =>
      context.run(
        'INSERT INTO shared_records (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        key,
        value,
      ),
    );
    // Group commit resolves the writes of one transaction in the order they ran, so the memory
    // copy applies writes to one key in commit order.
    this.#values.apply(key, value);
  }

  async delete(key: string): Promise<void> {
    this.#engine.requireOpen('deleteRecord');
    checkRecordKey(key);
    await this.#engine.write('deleteRecord', (context) => context.run('DELETE FROM shared_records WHERE key = ?', key));
    this.#values.apply(key, null);
  }

  onChange(listener: ChangeListener<string>): () => void {
    return this.#values.onChange(listener);
  }
}
