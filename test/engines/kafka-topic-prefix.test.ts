import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaEngine } from '../../src/engines/kafka/kafka-engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';

const brokers = (process.env.EVQ_KAFKA_BROKERS ?? '')
  .split(',')
  .map((broker) => broker.trim())
  .filter((broker) => broker.length > 0);

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
      const admin = new Admin({ clientId: 'evq-test-cleanup', bootstrapBrokers: brokers });
      try {
        const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
        if (topics.length > 0) {
          await admin.deleteTopics({ topics });
        }
      } finally {
        await admin.close();
      }
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
