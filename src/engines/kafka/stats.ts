import type { Admin } from '@platformatic/kafka';
import type { QueueStats } from '../engine.ts';
import type { GroupMember } from './group-member.ts';
import type { LogReader, TopicOffsets } from './log-reader.ts';
import { decodeMessage, messageHeaders } from './message-codec.ts';

/** Records per partition that stats examines for delays; the rest of a longer backlog counts as ready. */
const maxScannedRecords = 10_000;

export interface StatsTarget {
  name: string;
  group: string;
  topic: string;
  deadLetterTopic: string;
  groupId: string;
  maxAttempts: number;
}

/**
 * Counts a group's messages. Partitions this instance owns count from memory: leases, nack delays
 * and fetched records. The records after what the group has taken are read and counted as ready
 * or delayed by their `deliverAt`.
 *
 * NOTE: leases and nack delays of partitions that another instance owns are not visible here, so
 * those records count as ready.
 */
export async function groupStats(
  admin: Admin,
  reader: LogReader,
  target: StatsTarget,
  member: GroupMember | undefined,
): Promise<QueueStats> {
  const now = Date.now();
  const [offsets, deadLetterOffsets, committed] = await Promise.all([
    reader.offsets(target.topic),
    reader.offsets(target.deadLetterTopic),
    committedOffsets(admin, target),
  ]);
  const stats: QueueStats = {
    ready: 0,
    inFlight: 0,
    delayed: 0,
    deadLettered: (deadLetterOffsets.latest[0] ?? 0) - (deadLetterOffsets.earliest[0] ?? 0),
    published: offsets.latest.reduce((sum, end, partition) => sum + end - (offsets.earliest[partition] ?? 0), 0),
  };

  for (let partition = 0; partition < offsets.latest.length; partition++) {
    const state = member?.partitions.get(partition);
    const earliest = offsets.earliest[partition] ?? 0;
    let from = Math.max(committed.get(partition) ?? earliest, earliest);
    if (state !== undefined) {
      from = Math.max(state.fetchNext, earliest);
      for (const delivery of state.deliveries.values()) {
        if (delivery.deadPending || (delivery.leased && delivery.until <= now && delivery.attempt >= target.maxAttempts)) {
          stats.deadLettered++;
        } else if (delivery.leased && delivery.until > now) {
          stats.inFlight++;
        } else if (!delivery.leased && delivery.until > now) {
          stats.delayed++;
        } else {
          stats.ready++;
        }
      }
    }
    await countUntaken(reader, target, offsets, partition, from, now, stats);
  }
  return stats;
}

/** Counts the records of a partition from `from` to its end as ready or delayed. */
async function countUntaken(
  reader: LogReader,
  target: StatsTarget,
  offsets: TopicOffsets,
  partition: number,
  from: number,
  now: number,
  stats: QueueStats,
): Promise<void> {
  const end = offsets.latest[partition] ?? 0;
  let next = from;
  while (next < end && next - from < maxScannedRecords) {
    const records = await reader.fetch([{ topic: target.topic, partition, offset: next }], { maxWaitMs: 0 });
    if (records.length === 0) {
      break;
    }
    for (const record of records) {
      next = record.offset + 1;
      const redriveGroup = record.headers.get(messageHeaders.redriveGroup);
      const message = decodeMessage(target.name, record);
      if (message === null || (redriveGroup !== undefined && redriveGroup !== target.group)) {
        continue;
      }
      if (message.deliverAt !== null && message.deliverAt.getTime() > now) {
        stats.delayed++;
      } else {
        stats.ready++;
      }
    }
  }
  stats.ready += Math.max(end - next, 0);
}

async function committedOffsets(admin: Admin, target: StatsTarget): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  const groups = await admin.listConsumerGroupOffsets({ groups: [target.groupId] });
  for (const topic of groups[0]?.topics ?? []) {
    if (topic.name !== target.topic) {
      continue;
    }
    for (const partition of topic.partitions) {
      if (partition.committedOffset >= 0n) {
        result.set(partition.partitionIndex, Number(partition.committedOffset));
      }
    }
  }
  return result;
}
