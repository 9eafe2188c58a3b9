import { errors } from '../errors.ts';
import type { StoredMessage } from './engine.ts';

/**
 * A stored message as the quarantine keeps it in JSON. The times are Unix ms, or null for a value
 * that is not a valid Date. Every other field keeps the value it had, because a quarantined message
 * may hold anything that a writer put into storage.
 */
export interface QuarantinedMessageJson {
  id: unknown;
  queue: unknown;
  key: unknown;
  headers: unknown;
  data: unknown;
  producer: unknown;
  publishedAt: number | null;
  deliverAt: number | null;
  partition: unknown;
  offset: unknown;
}

/** Returns the JSON form of a message, with only the fields of `StoredMessage`. */
export function toQuarantinedMessageJson(message: StoredMessage): QuarantinedMessageJson {
  return {
    id: message.id,
    queue: message.queue,
    key: message.key,
    headers: message.headers,
    data: message.data,
    producer: message.producer,
    publishedAt: timeOf(message.publishedAt),
    deliverAt: timeOf(message.deliverAt),
    partition: message.partition,
    offset: message.offset,
  };
}

/**
 * Returns the message that `toQuarantinedMessageJson` encoded. A null `publishedAt` becomes an
 * invalid Date, since the type requires a Date.
 */
export function fromQuarantinedMessageJson(json: QuarantinedMessageJson): StoredMessage {
  return {
    ...(json as unknown as StoredMessage),
    publishedAt: new Date(json.publishedAt ?? Number.NaN),
    deliverAt: json.deliverAt === null || json.deliverAt === undefined ? null : new Date(json.deliverAt),
  };
}

/** Serializes a quarantine entry. Throws BAD_USER_INPUT when its message contains a value that JSON cannot encode. */
export function stringifyQuarantineEntry(entry: unknown): string {
  try {
    return JSON.stringify(entry);
  } catch (error) {
    throw errors.invalidInput('message', String(error), 'a message whose fields JSON can encode');
  }
}

function timeOf(value: unknown): number | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.getTime() : null;
}
