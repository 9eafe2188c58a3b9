// Checks a running Kafka broker end to end with the client that evq uses: creates a topic,
// produces one record with the idempotent producer (acks=all), consumes it in a consumer group
// and commits its offset, then deletes the topic.
//
// Usage: EVQ_KAFKA_BROKERS=127.0.0.1:9092 node scripts/kafka-smoke.ts
//    or: export "$(bash scripts/kafka.sh env)" && node scripts/kafka-smoke.ts
// Exits 0 when every step passed, 1 when a step failed or timed out, 2 without EVQ_KAFKA_BROKERS.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';

/** Upper bound for each step. On a fresh broker, the first group join also creates __consumer_offsets. */
const STEP_TIMEOUT_MS = 60_000;

/**
 * How long listTopics may still return a deleted topic, since the broker's metadata cache applies
 * the deletion after the controller commits it.
 */
const DELETE_VISIBLE_TIMEOUT_MS = 10_000;

function fail(message: string): never {
  throw new Error(message);
}

/** Runs one named step, prints its duration, and rejects when it takes over STEP_TIMEOUT_MS. */
async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: timed out after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });

  try {
    const result = await Promise.race([run(), timeout]);
    console.log(`kafka-smoke: ${name} (${Math.round(performance.now() - started)} ms)`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

function readBrokers(): string[] {
  const value = process.env.EVQ_KAFKA_BROKERS?.trim();
  if (!value) {
    console.error(
      'kafka-smoke: EVQ_KAFKA_BROKERS is not set; start a broker and export its address with ' +
        '`bash scripts/kafka.sh start && export "$(bash scripts/kafka.sh env)"`',
    );
    process.exit(2);
  }
  return value.split(',').map((broker) => broker.trim());
}

async function waitUntilDeleted(admin: Admin, topic: string): Promise<void> {
  const deadline = performance.now() + DELETE_VISIBLE_TIMEOUT_MS;
  while ((await admin.listTopics()).includes(topic)) {
    if (performance.now() > deadline) {
      fail(`topic ${topic} is still listed ${DELETE_VISIBLE_TIMEOUT_MS} ms after deleteTopics returned`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  const brokers = readBrokers();
  const topic = `evq-smoke-${randomUUID()}`;
  const groupId = `evq-smoke-${randomUUID()}`;
  const sent = { key: 'smoke-key', value: `smoke ${new Date().toISOString()}`, header: 'smoke-header' };
  const started = performance.now();

  const admin = new Admin({ clientId: 'evq-kafka-smoke-admin', bootstrapBrokers: brokers });
  const producer = new Producer({
    clientId: 'evq-kafka-smoke-producer',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
  });
  const consumer = new Consumer({
    clientId: 'evq-kafka-smoke-consumer',
    groupId,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 500,
  });
  let topicCreated = false;

  try {
    console.log(`kafka-smoke: brokers ${brokers.join(',')}, topic ${topic}`);

    await step('create topic', async () => {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      topicCreated = true;
    });

    const produced = await step('produce one record', () =>
      producer.send({
        messages: [{ topic, key: sent.key, value: sent.value, headers: { 'evq-smoke': sent.header } }],
      }),
    );
    const producedOffset = produced.offsets?.[0]?.offset;
    if (producedOffset !== 0n) {
      fail(`expected the first record at offset 0, but the broker returned ${String(producedOffset)}`);
    }

    const received = await step('consume and commit in a group', async () => {
      const stream = await consumer.consume({
        topics: [topic],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: false,
      });
      try {
        for await (const message of stream) {
          await message.commit();
          return message;
        }
        return fail('the consumer stream ended before a record arrived');
      } finally {
        await stream.close();
      }
    });

    if (received.key !== sent.key) {
      fail(`expected key ${sent.key}, received ${received.key}`);
    }
    if (received.value !== sent.value) {
      fail(`expected value ${sent.value}, received ${received.value}`);
    }
    const header = received.headers.get('evq-smoke');
    if (header !== sent.header) {
      fail(`expected header evq-smoke=${sent.header}, received ${String(header)}`);
    }

    await step('delete topic', async () => {
      await admin.deleteTopics({ topics: [topic] });
      topicCreated = false;
      await waitUntilDeleted(admin, topic);
    });

    console.log(`kafka-smoke: ok in ${Math.round(performance.now() - started)} ms`);
  } finally {
    await consumer.close(true);
    await producer.close();
    if (topicCreated) {
      await admin.deleteTopics({ topics: [topic] });
    }
    await admin.close();
  }
}

try {
  await main();
} catch (error) {
  console.error('kafka-smoke: failed:', error);
  process.exitCode = 1;
}
