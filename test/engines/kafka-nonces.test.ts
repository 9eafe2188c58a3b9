import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { maxNonceWindowMs } from '../../src/engines/engine.ts';
import { KafkaEngine } from '../../src/engines/kafka/kafka-engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { deleteKafkaResources, kafkaBrokers } from '../helpers/kafka.ts';

const brokers = kafkaBrokers;
const topicPrefix = `evq-nonces-${randomUUID().slice(0, 8)}.`;

describe('kafka engine nonces', () => {
  afterAll(async () => {
    if (brokers.length > 0) {
      await deleteKafkaResources(brokers, topicPrefix);
    }
  });

  it('calls before start are ENGINE_UNAVAILABLE', async () => {
    const engine = new KafkaEngine({ brokers: ['127.0.0.1:9'], logger: silentLogger(), topicPrefix });
    onTestFinished(async () => {
      await engine.close();
    });

    await expect(engine.nonces.claim('key', 'message-a', 1000)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
  });

  it('maxNonceWindowMs outside its range throws', () => {
    for (const windowMs of [0, -1, Number.NaN, maxNonceWindowMs + 1]) {
      expect(
        () => new KafkaEngine({ brokers: ['127.0.0.1:9'], logger: silentLogger(), topicPrefix, maxNonceWindowMs: windowMs }),
        `maxNonceWindowMs ${windowMs}`,
      ).toThrow(RangeError);
    }
  });

  it.skipIf(brokers.length === 0)('maxNonceWindowMs caps the claim window', async () => {
    const engine = new KafkaEngine({ brokers, logger: silentLogger(), topicPrefix, maxNonceWindowMs: 60_000 });
    onTestFinished(async () => {
      await engine.close();
    });
    await engine.start();
    const key = `test-key\n${randomUUID()}`;

    await expect(engine.nonces.claim(key, 'message-a', 60_001)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'windowMs' },
    });
    expect(await engine.nonces.claim(key, 'message-b', 60_000)).toBe('message-b');
  });
});
