import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Engine } from './engine.ts';

/** File name of the embedded engine's database inside the data folder. */
export const sqliteFileName = 'evq.db';

/** Creates the engine that EVQ_ENGINE selects; the engine is not started yet. */
export async function createEngine(config: Config, logger: Logger): Promise<Engine> {
  if (config.engine === 'kafka') {
    // TODO: the Kafka engine is not built yet; until it is, only the embedded engine runs.
    throw new Error('EVQ_ENGINE=kafka is not available in this evq version yet; use EVQ_ENGINE=sqlite.');
  }
  const { SqliteEngine } = await import('./sqlite/sqlite-engine.ts');
  return new SqliteEngine({ path: join(config.dataDir, sqliteFileName), sync: config.sqliteSync, logger });
}
