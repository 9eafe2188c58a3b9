import { Admin } from '@platformatic/kafka';

/** Brokers of the test Kafka cluster, from EVQ_KAFKA_BROKERS; empty when no broker is set up. */
export const kafkaBrokers = (process.env.EVQ_KAFKA_BROKERS ?? '')
  .split(',')
  .map((broker) => broker.trim())
  .filter((broker) => broker.length > 0);

/**
 * Deletes every topic, and every consumer group, whose name starts with `prefix`. A group whose
 * killed member has not timed out yet is not empty and cannot be deleted; Kafka expires it later.
 */
export async function deleteKafkaResources(brokers: string[], prefix: string): Promise<void> {
  const admin = new Admin({ clientId: 'evq-test-cleanup', bootstrapBrokers: brokers });
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) {
      await admin.deleteTopics({ topics });
    }
    const groups = [...(await admin.listGroups()).keys()].filter((group) => group.startsWith(prefix));
    for (const group of groups) {
      await admin.deleteGroups({ groups: [group] }).catch(() => undefined);
    }
  } finally {
    await admin.close();
  }
}
