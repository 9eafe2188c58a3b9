// Produces the same records to the same broker with @platformatic/kafka, with kafkajs, and through
// evq's Kafka engine (append in batches of 100). Prints the rate of each with the CPU time this
// process spent, because the load generator shares the machine with the broker. The clients' rows
// include connecting and closing; the engine's rows time the appends only. The engine runs twice:
// with ids that the producer gave (deduplicated) and with ids that the service generated
// (`deduplicate: false`, no dedup).
//
// Usage: EVQ_KAFKA_BROKERS=127.0.0.1:9092 node bench/kafka-clients.ts [RECORDS] [BATCH]
// Defaults: 100 000 records of about 200 bytes, 1000 records per send. Every producer is idempotent
// and waits for all in-sync replicas (acks=all). Each run writes to a fresh single-partition topic,
// deleted afterwards.

import { randomBytes, randomUUID } from 'node:crypto';
import { Admin, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { KafkaEngine } from '../src/engines/kafka/kafka-engine.ts';
import { silentLogger } from '../src/observability/logger.ts';

const recordCount = Number(process.argv[2] ?? 100_000);
const batchSize = Number(process.argv[3] ?? 1000);
const evqBatchSize = 100;
const brokers = (process.env.EVQ_KAFKA_BROKERS ?? '').split(',').filter((broker) => broker.length > 0);
if (brokers.length === 0) {
  console.error('kafka-clients: set EVQ_KAFKA_BROKERS, for example with `eval "$(bash scripts/kafka.sh env)"`');
  process.exit(2);
}

/** About 200 bytes of JSON per record, the same for every client. */
const values = Array.from({ length: recordCount }, (_, index) =>
  JSON.stringify({ index, payload: randomBytes(80).toString('hex') }),
);

/** The same records as evq messages, with ids made before the clock starts. */
const evqMessages = values.map((data) => ({
  id: randomUUID(),
  key: null,
  headers: {},
  data,
  producer: null,
  deliverAt: null,
}));

interface Result {
  client: string;
  seconds: number;
  cpuMs: number;
}

async function measure(client: string, run: () => Promise<void>): Promise<Result> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { client, seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function withTopic(admin: Admin, run: (topic: string) => Promise<void>): Promise<void> {
  const topic = `evq-bench-${randomUUID()}`;
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: -1 });
  try {
    await run(topic);
  } finally {
    await admin.deleteTopics({ topics: [topic] });
  }
}

async function producePlatformatic(topic: string): Promise<void> {
  const producer = new Producer({
    clientId: 'evq-bench-platformatic',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
  });
  try {
    for (let start = 0; start < recordCount; start += batchSize) {
      const messages = values.slice(start, start + batchSize).map((value) => ({ topic, partition: 0, value }));
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
}

async function produceKafkajs(topic: string): Promise<void> {
  const kafka = new kafkajs.Kafka({ clientId: 'evq-bench-kafkajs', brokers, logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    for (let start = 0; start < recordCount; start += batchSize) {
      const messages = values.slice(start, start + batchSize).map((value) => ({ value, partition: 0 }));
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Appends through the engine with 50 calls in flight, as concurrent publishBatch calls would.
 * Only the appends are timed; starting the engine and creating the queue are not.
 */
async function measureEvq(deduplicate: boolean): Promise<Result> {
  const topicPrefix = `evq-bench-${randomUUID().slice(0, 8)}.`;
  const engine = new KafkaEngine({ brokers, logger: silentLogger(), topicPrefix });
  await engine.start();
  const queue = 'bench';
  await engine.createQueue(queue, {});
  try {
    const messages = evqMessages.map((message) => ({ ...message, deduplicate }));
    const idSource = deduplicate ? 'producer ids' : 'generated ids';
    return await measure(`evq KafkaEngine.append (${evqBatchSize}/call, ${idSource})`, async () => {
      const batches: Promise<unknown>[] = [];
      for (let start = 0; start < recordCount; start += evqBatchSize) {
        batches.push(engine.append(queue, messages.slice(start, start + evqBatchSize), 600_000));
        if (batches.length === 50) {
          await Promise.all(batches.splice(0));
        }
      }
      await Promise.all(batches);
    });
  } finally {
    await engine.deleteQueue(queue);
    await engine.close();
  }
}

const admin = new Admin({ clientId: 'evq-bench-admin', bootstrapBrokers: brokers });
const results: Result[] = [];
try {
  await withTopic(admin, async (topic) => {
    results.push(await measure('@platformatic/kafka', () => producePlatformatic(topic)));
  });
  await withTopic(admin, async (topic) => {
    results.push(await measure('kafkajs', () => produceKafkajs(topic)));
  });
  results.push(await measureEvq(true));
  results.push(await measureEvq(false));
} finally {
  await admin.close();
}

const bytes = values.reduce((sum, value) => sum + Buffer.byteLength(value), 0) / recordCount;
console.log(`${recordCount} records of ${Math.round(bytes)} bytes, ${batchSize} per send, acks=all, idempotent, 1 partition`);
console.table(
  results.map((result) => ({
    client: result.client,
    'records/s': Math.round(recordCount / result.seconds),
    seconds: Number(result.seconds.toFixed(2)),
    'load generator CPU (ms)': Math.round(result.cpuMs),
  })),
);
