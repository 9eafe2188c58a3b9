import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Engine } from './engine.ts';

/** File name of the embedded engine's database inside the data folder. */
export const sqliteFileName = 'evq.db';

/** Creates the engine that EVQ_ENGINE selects; the engine is not started yet. */
export async function createEngine(config: Config, logger: Logger): Promise<Engine> {
  if (config.engine === 'kafka') {
    const { KafkaEngine } = await import('./kafka/kafka-engine.ts');
    return new KafkaEngine({
      brokers: config.kafkaBrokers,
      topicPrefix: config.kafkaTopicPrefix,
      logger,
      // Producer signatures claim a nonce for twice the allowed clock skew.
      maxNonceWindowMs: 2 * config.signatureMaxSkewSeconds * 1000,
    });
  }
  const { SqliteEngine } = await import('./sqlite/sqlite-engine.ts');
  return new SqliteEngine({ path: join(config.dataDir, sqliteFileName), sync: config.sqliteSync, logger });
}
