import type { Admin } from '@platformatic/kafka';
import { hasKafkaError } from './client-errors.ts';

/**
 * Creates a single-partition topic with the cluster's default replication factor unless it
 * exists, and returns whether this call created it. An existing topic keeps its configuration.
 */
export async function createSinglePartitionTopic(
  admin: Admin,
  topic: string,
  configs: { name: string; value: string }[],
): Promise<boolean> {
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: -1, configs });
    return true;
  } catch (error) {
    if (hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) {
      return false;
    }
    throw error;
  }
}
