import type { SharedRecord, SharedRecords } from '../engine.ts';
import type { ChangeListener } from '../record-map.ts';
import { checkRecordKey, checkRecordPrefix, checkRecordValue } from '../request-checks.ts';
import { CompactedTopic, type CompactedTopicClients } from './compacted-topic.ts';
import type { EngineGate } from './engine-gate.ts';

/**
 * The shared records on Kafka: a compacted single-partition topic keyed by record key, which every
 * instance with the same topic prefix reads at start and then follows.
 */
export class KafkaSharedRecords implements SharedRecords {
  readonly #topic: CompactedTopic<string>;
  readonly #gate: EngineGate;

  constructor(topic: string, clients: CompactedTopicClients, gate: EngineGate) {
    this.#topic = new CompactedTopic(topic, (value) => value, clients);
    this.#gate = gate;
  }

  /** Creates the topic when missing, reads it to its end, then follows it in the background. */
  start(): Promise<void> {
    return this.#topic.start();
  }

  /** Stops following the topic; settles after the log reader has closed. Idempotent. */
  close(): Promise<void> {
    return this.#topic.close();
  }

  get(key: string): string | null {
    this.#gate.checkOpen('getRecord');
    return this.#topic.get(key);
  }

  list(prefix: string): SharedRecord[] {
    this.#gate.checkOpen('listRecords');
    checkRecordPrefix(prefix);
    return this.#topic.entries(prefix).map(([key, value]) => ({ key, value }));
  }

  put(key: string, value: string): Promise<void> {
    return this.#gate.run('putRecord', async () => {
      checkRecordKey(key);
      checkRecordValue(value);
      await this.#topic.write('putRecord', key, value);
    });
  }

  delete(key: string): Promise<void> {
    return this.#gate.run('deleteRecord', async () => {
      checkRecordKey(key);
      await this.#topic.write('deleteRecord', key, null);
    });
  }

  onChange(listener: ChangeListener<string>): () => void {
    return this.#topic.onChange(listener);
  }
}
