import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('kafka topic prefix defaults to evq.', () => {
    expect(loadConfig({}).kafkaTopicPrefix).toBe('evq.');
  });

  it('kafka topic prefix takes topic characters', () => {
    const prefix = `Team_a-1.${'x'.repeat(91)}`;
    expect(prefix).toHaveLength(100);
    expect(loadConfig({ EVQ_KAFKA_TOPIC_PREFIX: prefix }).kafkaTopicPrefix).toBe(prefix);
  });

  it.each([
    ['a space', 'evq test.', "must be 1 or more of the Kafka topic characters A-Z, a-z, 0-9, '.', '_' and '-'"],
    ['a slash', 'evq/', "must be 1 or more of the Kafka topic characters A-Z, a-z, 0-9, '.', '_' and '-'"],
    ['nothing', '', "must be 1 or more of the Kafka topic characters A-Z, a-z, 0-9, '.', '_' and '-'"],
    ['101 characters', 'x'.repeat(101), 'must be at most 100 characters'],
  ])('kafka topic prefix with %s is rejected', (_case, prefix, reason) => {
    const load = () => loadConfig({ EVQ_KAFKA_TOPIC_PREFIX: prefix });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(`EVQ_KAFKA_TOPIC_PREFIX=${JSON.stringify(prefix)}: ${reason}`);
  });
});
