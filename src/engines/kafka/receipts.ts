import { randomInt } from 'node:crypto';

/** Fields of a receipt: a group's delivery of one record, and the lease that delivered it. */
export interface ReceiptFields {
  group: string;
  partition: number;
  offset: number;
  /** Random per lease, so the receipt of an earlier lease on the same record never matches. */
  token: number;
}

const formatVersion = 1;

/** Returns a new lease token: a random integer below 2^47. */
export function newLeaseToken(): number {
  return randomInt(0, 2 ** 47);
}

/**
 * Encodes the fields as an opaque base64url string. A receipt carries everything an instance
 * needs to route an ack to the journal, so any instance can accept it.
 */
export function encodeReceipt(fields: ReceiptFields): string {
  const text = JSON.stringify([formatVersion, fields.group, fields.partition, fields.offset, fields.token]);
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Returns the fields of a receipt, or null when it is not one that `encodeReceipt` made. */
export function decodeReceipt(receipt: unknown): ReceiptFields | null {
  if (typeof receipt !== 'string' || receipt.length === 0 || receipt.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(receipt)) {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(receipt, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 5 || parsed[0] !== formatVersion) {
    return null;
  }
  const [, group, partition, offset, token] = parsed as unknown[];
  if (
    typeof group !== 'string' ||
    group.length === 0 ||
    !Number.isSafeInteger(partition) ||
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(token) ||
    (partition as number) < 0 ||
    (offset as number) < 0
  ) {
    return null;
  }
  // Base64url has several spellings of the same bytes; only the canonical one is a receipt.
  const fields = { group, partition: partition as number, offset: offset as number, token: token as number };
  return encodeReceipt(fields) === receipt ? fields : null;
}
