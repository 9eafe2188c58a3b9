// Starts a Kafka engine, leases messages of a queue and holds them until the process is killed.
// kafka-cluster.test.ts runs it in a child process and sends SIGKILL, which closes its
// connections without a commit or a LeaveGroup, as a crash of evq would.
//
// Usage: node test/helpers/kafka-lease-holder.ts BROKERS TOPIC_PREFIX QUEUE GROUP LIMIT VISIBILITY_SECONDS
// Prints one JSON line with the leases it holds, then waits.

import { KafkaEngine } from '../../src/engines/kafka/kafka-engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';

const [brokers, topicPrefix, queue, group, limit, visibilitySeconds] = process.argv.slice(2);
if (visibilitySeconds === undefined) {
  console.error('usage: kafka-lease-holder.ts BROKERS TOPIC_PREFIX QUEUE GROUP LIMIT VISIBILITY_SECONDS');
  process.exit(2);
}

const engine = new KafkaEngine({
  brokers: brokers!.split(','),
  logger: silentLogger(),
  topicPrefix: topicPrefix!,
  instanceId: 'lease-holder',
});
await engine.start();
const leases = await engine.receive(queue!, group!, {
  limit: Number(limit),
  visibilitySeconds: Number(visibilitySeconds),
  waitMs: 10_000,
});
console.log(JSON.stringify(leases.map((lease) => ({ id: lease.message.id, attempt: lease.attempt, receipt: lease.receipt }))));
setInterval(() => undefined, 60_000);
