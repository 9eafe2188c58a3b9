import type { StoredMessage } from '../engine.ts';

/** The columns of a message as `messages` and `dead_letters` store it. */
export interface MessageRow {
  seq: number;
  partition: number;
  offset: number;
  message_id: string;
  key: string | null;
  headers: string | null;
  data: string;
  producer: string | null;
  published_at: number;
  deliver_at: number | null;
}

/** The column list that selects a `MessageRow` from `messages` or `dead_letters`. */
export const messageColumns =
  'seq, partition, offset, message_id, key, headers, data, producer, published_at, deliver_at';

export function toStoredMessage(queue: string, row: MessageRow): StoredMessage {
  return {
    id: row.message_id,
    queue,
    key: row.key,
    headers: row.headers === null ? {} : (JSON.parse(row.headers) as Record<string, string>),
    data: row.data,
    producer: row.producer,
    publishedAt: new Date(row.published_at),
    deliverAt: row.deliver_at === null ? null : new Date(row.deliver_at),
    partition: row.partition,
    offset: row.offset,
  };
}

/** Stores headers as NULL when there are none, which saves a JSON parse on every read. */
export function encodeHeaders(headers: Record<string, string>): string | null {
  return Object.keys(headers).length === 0 ? null : JSON.stringify(headers);
}
