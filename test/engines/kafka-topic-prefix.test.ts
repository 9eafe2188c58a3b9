import { randomUUID } from 'node:crypto';
import { deleteKafkaResources, kafkaBrokers } from '../helpers/kafka.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaEngine } from '../../src/engines/kafka/kafka-engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';

const brokers = kafkaBrokers;

/** The longest prefix that EVQ_KAFKA_TOPIC_PREFIX accepts: 100 characters. */
const topicPrefix = `evqtest-${randomUUID()}.`.padEnd(100, 'p');

if (brokers.length === 0) {
  describe('kafka engine with a long topic prefix', () => {
    it.skip('needs EVQ_KAFKA_BROKERS (start a broker with `bash scripts/kafka.sh start`)', () => {});
  });
} else {
  describe('kafka engine with a long topic prefix', () => {
    const engine = new KafkaEngine({ brokers, logger: silentLogger(), topicPrefix });

    afterAll(async () => {
      await engine.close();
      await deleteKafkaResources(brokers, topicPrefix);
    });

    it('queue names shrink to fit topic names', async () => {
      await engine.start();
      // 249 (Kafka's topic name limit) - 100 (prefix) - 10 ('__journal.') = 139.
      const longest = `test-${randomUUID()}`.padEnd(139, 'n');
      const tooLong = `${longest}n`;

      const created = await engine.createQueue(longest, {});
      const rejected = engine.createQueue(tooLong, {});

      expect(created.name).toBe(longest);
      await expect(rejected).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        message: expect.stringContaining('expected a name of 1 to 139 letters'),
      });
    });
  });
}
