import { randomUUID } from 'node:crypto';
import { deleteKafkaResources, kafkaBrokers } from '../helpers/kafka.ts';
import { describe, it } from 'vitest';
import type { Engine } from '../../src/engines/engine.ts';
import { KafkaEngine } from '../../src/engines/kafka/kafka-engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { describeEngineConformance } from './conformance.ts';

const brokers = kafkaBrokers;

/** One topic prefix per test run, so the run's internal topics never meet those of another run. */
const topicPrefix = `evq-test-${randomUUID().slice(0, 8)}.`;
const prefixesOfEngines = new WeakMap<Engine, string>();

async function openEngine(): Promise<KafkaEngine> {
  const engine = new KafkaEngine({ brokers, logger: silentLogger(), topicPrefix });
  await engine.start();
  prefixesOfEngines.set(engine, topicPrefix);
  return engine;
}

if (brokers.length === 0) {
  describe('kafka engine conformance', () => {
    it.skip('needs EVQ_KAFKA_BROKERS (start a broker with `bash scripts/kafka.sh start`)', () => {});
  });
} else {
  describeEngineConformance('kafka', {
    create: openEngine,
    async reopen(engine) {
      if (!prefixesOfEngines.has(engine)) {
        throw new Error('reopen() got an engine that create() did not return.');
      }
      await engine.close();
      return openEngine();
    },
    cleanup: () => deleteKafkaResources(brokers, topicPrefix),
  });
}
