import { randomUUID } from 'node:crypto';
import type { Admin } from '@platformatic/kafka';
import { decodeJournal, requestRecord, type DeliveryRequest } from './journal.ts';
import type { Verdict } from './lease-operations.ts';
import type { LogReader } from './log-reader.ts';
import type { ProduceBatcher } from './produce-batcher.ts';
import type { ReceiptFields } from './receipts.ts';

/** How long an instance waits for the owner's verdict on a request, in ms. */
export const verdictTimeoutMs = 5000;

/** The clients and names that a request to another instance uses. */
export interface RemoteRequestContext {
  admin: Admin;
  reader: LogReader;
  batcher: ProduceBatcher;
  writer: string;
  journalTopic: string;
  groupId: string;
}

/**
 * Sends an ack, nack or extend for a partition that another instance owns: appends the request to
 * the journal, then reads the journal partition until the owner's verdict appears. Returns the
 * verdict, or null when no verdict arrived within `verdictTimeoutMs`. In that case the request
 * stays in the journal, and an owner that reads it while the lease is still live applies it.
 */
export async function sendRemoteRequest(
  context: RemoteRequestContext,
  fields: ReceiptFields,
  request: Pick<DeliveryRequest, 'kind' | 'durationMs' | 'error'>,
): Promise<Verdict | null> {
  const requestId = randomUUID();
  const value: DeliveryRequest = { ...request, id: requestId, token: fields.token, at: Date.now(), writer: context.writer };
  const record = requestRecord(context.journalTopic, fields.partition, fields.group, fields.offset, value, requestId);
  const [journalOffset] = await context.batcher.send(request.kind, [record]);

  const deadline = performance.now() + verdictTimeoutMs;
  let next = journalOffset! + 1;
  while (performance.now() < deadline) {
    const records = await context.reader.fetch([{ topic: context.journalTopic, partition: fields.partition, offset: next }], {
      maxWaitMs: Math.max(Math.floor(deadline - performance.now()), 0),
    });
    for (const fetched of records) {
      next = fetched.offset + 1;
      const entry = decodeJournal(fetched);
      if (entry?.requestId === requestId && entry.value?.kind === 'verdict') {
        const verdict = entry.value;
        if (!verdict.ok) {
          return { ok: false, reason: verdict.reason ?? 'its lease has ended' };
        }
        return verdict.until === undefined ? { ok: true } : { ok: true, until: verdict.until };
      }
    }
  }
  return null;
}

/** True when the Kafka consumer group of the evq group has members, so some instance owns its partitions. */
export async function groupHasMembers(context: Pick<RemoteRequestContext, 'admin' | 'groupId'>): Promise<boolean> {
  const groups = await context.admin.describeGroups({ groups: [context.groupId] });
  return (groups.get(context.groupId)?.members.size ?? 0) > 0;
}
