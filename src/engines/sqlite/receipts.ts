import { randomInt } from 'node:crypto';

/** The fields of a receipt: a group's delivery of one message, and the lease that delivered it. */
export interface ReceiptFields {
  groupId: number;
  partition: number;
  offset: number;
  /** Random per lease, so the receipt of an earlier lease on the same message never matches. */
  leaseToken: number;
}

const receiptPattern = /^1:(\d{1,16}):(\d{1,2}):(\d{1,16}):(\d{1,16})$/;

/** Returns a new lease token: a random integer below 2^47. */
export function newLeaseToken(): number {
  return randomInt(0, 2 ** 47);
}

/** Encodes the fields as an opaque base64url string with a format version. */
export function encodeReceipt(fields: ReceiptFields): string {
  const text = `1:${fields.groupId}:${fields.partition}:${fields.offset}:${fields.leaseToken}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Returns the fields of a receipt, or null when it is not one that `encodeReceipt` made. */
export function decodeReceipt(receipt: unknown): ReceiptFields | null {
  if (typeof receipt !== 'string' || receipt.length === 0 || receipt.length > 128) {
    return null;
  }
  const text = Buffer.from(receipt, 'base64url').toString('utf8');
  const match = receiptPattern.exec(text);
  // The decoder skips characters it cannot use, so only the exact encoding of the text counts.
  if (match === null || Buffer.from(text, 'utf8').toString('base64url') !== receipt) {
    return null;
  }
  const [groupId, partition, offset, leaseToken] = match.slice(1).map(Number) as [number, number, number, number];
  if (!Number.isSafeInteger(groupId) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(leaseToken)) {
    return null;
  }
  return { groupId, partition, offset, leaseToken };
}
