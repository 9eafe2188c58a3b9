import type { NewMessage, StoredMessage } from '../engine.ts';

/** A record as a fetch returned it, with its offset and headers decoded. */
export interface FetchedRecord {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp (CreateTime, set by evq), in Unix ms. */
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Map<string, string>;
}

/** A record for the producer; every part is a string, as `stringSerializers` expects. */
export interface RecordToProduce {
  topic: string;
  partition: number;
  key?: string;
  value?: string;
  headers: Record<string, string>;
  timestamp: bigint;
}

/** Header names of the evq fields of a queue record. User headers travel as JSON in one header. */
export const messageHeaders = {
  id: 'evq-id',
  producer: 'evq-producer',
  deliverAt: 'evq-deliver-at',
  headers: 'evq-headers',
  /** Set on a redriven message: only this group receives it; the others skip it. */
  redriveGroup: 'evq-redrive-group',
  /** Set to '1' when the service generated the id, so the dedup index can leave the record out. */
  generatedId: 'evq-generated-id',
} as const;

/** Builds the record of a message; `publishedAt` becomes the record timestamp. */
export function encodeMessage(
  topic: string,
  partition: number,
  message: NewMessage,
  publishedAt: number,
  extraHeaders: Record<string, string> = {},
): RecordToProduce {
  const headers: Record<string, string> = { [messageHeaders.id]: message.id, ...extraHeaders };
  if (message.deduplicate === false) {
    headers[messageHeaders.generatedId] = '1';
  }
  if (message.producer !== null) {
    headers[messageHeaders.producer] = message.producer;
  }
  if (message.deliverAt !== null) {
    headers[messageHeaders.deliverAt] = String(message.deliverAt.getTime());
  }
  if (Object.keys(message.headers).length > 0) {
    headers[messageHeaders.headers] = JSON.stringify(message.headers);
  }
  const record: RecordToProduce = { topic, partition, value: message.data, headers, timestamp: BigInt(publishedAt) };
  if (message.key !== null) {
    record.key = message.key;
  }
  return record;
}

/**
 * Returns the message a queue record stores, or null when the record lacks the evq id header
 * (a record that something other than evq wrote into the topic).
 */
export function decodeMessage(queue: string, record: FetchedRecord): StoredMessage | null {
  const id = record.headers.get(messageHeaders.id);
  if (id === undefined) {
    return null;
  }
  const deliverAt = record.headers.get(messageHeaders.deliverAt);
  const headers = record.headers.get(messageHeaders.headers);
  return {
    id,
    queue,
    key: record.key,
    headers: headers === undefined ? {} : (JSON.parse(headers) as Record<string, string>),
    data: record.value ?? 'null',
    producer: record.headers.get(messageHeaders.producer) ?? null,
    publishedAt: new Date(record.timestamp),
    deliverAt: deliverAt === undefined ? null : new Date(Number(deliverAt)),
    partition: record.partition,
    offset: record.offset,
  };
}

/** Returns the `NewMessage` fields of a stored message, to publish it again. */
export function toNewMessage(message: StoredMessage): NewMessage {
  return {
    id: message.id,
    key: message.key,
    headers: message.headers,
    data: message.data,
    producer: message.producer,
    deliverAt: message.deliverAt,
  };
}
