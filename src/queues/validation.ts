import { randomUUID } from 'node:crypto';
import type { Limits } from '../config.ts';
import type { NewMessage, QueueConfig, QueueSettings } from '../engines/engine.ts';
import { EvqError, errors } from '../errors.ts';
import { reservedHeaderPrefix } from '../signing/message-seal.ts';

/** A message as a producer sends it, before validation. */
export interface PublishInput {
  data: unknown;
  key?: string | null;
  headers?: unknown;
  id?: string | null;
  delaySeconds?: number | null;
  deliverAt?: Date | string | null;
  signature?: { keyId: string; timestamp: number; nonce: string; value: string } | null;
}

/** Queue and group names: Kafka's topic characters, so every name maps to a topic unchanged. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const maxNameLength = 200;
const maxKeyLength = 1024;
const maxIdLength = 256;
const maxHeaders = 64;
const maxHeaderNameLength = 256;
const maxHeaderValueLength = 8192;

export const queueDefaults: Required<QueueSettings> = {
  partitions: 1,
  retentionSeconds: 7 * 24 * 3600,
  visibilityTimeoutSeconds: 30,
  maxAttempts: 5,
  requireSignature: false,
};

export function validateName(field: 'queue' | 'group' | 'prefix', value: unknown): string {
  if (typeof value !== 'string' || value.length > maxNameLength || !namePattern.test(value)) {
    throw errors.invalidInput(
      field,
      value,
      `1 to ${maxNameLength} characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit`,
    );
  }
  return value;
}

export function validateInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw errors.invalidInput(field, value, `an integer from ${min} to ${max}`);
  }
  if (value < min || value > max) {
    throw errors.outOfRange(field, value, min, max);
  }
  return value;
}

/** Checks queue settings; `creating` allows `partitions`, which is fixed after creation. */
export function validateQueueSettings(settings: QueueSettings, limits: Limits, creating: boolean): QueueSettings {
  const checked: QueueSettings = {};
  if (settings.partitions != null) {
    if (!creating) {
      throw errors.invalidInput('partitions', settings.partitions, 'no change: partitions are fixed when a queue is created');
    }
    checked.partitions = validateInteger('partitions', settings.partitions, 1, 64);
  }
  if (settings.retentionSeconds != null) {
    checked.retentionSeconds = validateInteger('retentionSeconds', settings.retentionSeconds, 60, 365 * 24 * 3600);
  }
  if (settings.visibilityTimeoutSeconds != null) {
    checked.visibilityTimeoutSeconds = validateInteger(
      'visibilityTimeoutSeconds',
      settings.visibilityTimeoutSeconds,
      limits.minVisibilitySeconds,
      limits.maxVisibilitySeconds,
    );
  }
  if (settings.maxAttempts != null) {
    checked.maxAttempts = validateInteger('maxAttempts', settings.maxAttempts, 1, 1000);
  }
  if (settings.requireSignature != null) {
    if (typeof settings.requireSignature !== 'boolean') {
      throw errors.invalidInput('requireSignature', settings.requireSignature, 'true or false');
    }
    checked.requireSignature = settings.requireSignature;
  }
  return checked;
}

/**
 * Turns a producer's input into a message for the engine. Throws BAD_USER_INPUT or
 * PAYLOAD_TOO_LARGE naming the field and value; `index` names the message within a batch.
 */
export function validatePublishInput(
  input: PublishInput,
  queue: QueueConfig,
  limits: Limits,
  producer: string | null,
  now: number,
  index?: number,
): NewMessage {
  const where = index === undefined ? '' : `messages[${index}].`;
  if (typeof input !== 'object' || input === null) {
    throw errors.invalidInput(where || 'message', input, 'an object with a data field');
  }
  if (input.data === undefined) {
    throw errors.invalidInput(`${where}data`, input.data, 'a JSON value');
  }
  const data = JSON.stringify(input.data);
  const bytes = Buffer.byteLength(data, 'utf8');
  if (bytes > limits.maxPayloadBytes) {
    throw errors.payloadTooLarge(bytes, limits.maxPayloadBytes, { queue: queue.name, ...(index === undefined ? {} : { index }) });
  }

  return {
    id: validateMessageId(input.id, where),
    deduplicate: input.id != null,
    key: validateKey(input.key, where),
    headers: validateHeaders(input.headers, where),
    data,
    producer,
    deliverAt: validateDelay(input, queue, where, now),
  };
}

function validateMessageId(id: unknown, where: string): string {
  if (id == null) return randomUUID();
  if (typeof id !== 'string' || id.length === 0 || id.length > maxIdLength || /[\u0000-\u001f]/.test(id)) {
    throw errors.invalidInput(`${where}id`, id, `1 to ${maxIdLength} characters without control characters`);
  }
  return id;
}

export function validateKey(key: unknown, where = ''): string | null {
  if (key == null) return null;
  if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) {
    throw errors.invalidInput(`${where}key`, key, `a string of 1 to ${maxKeyLength} characters`);
  }
  return key;
}

function validateHeaders(headers: unknown, where: string): Record<string, string> {
  if (headers == null) return {};
  if (typeof headers !== 'object' || Array.isArray(headers)) {
    throw errors.invalidInput(`${where}headers`, headers, 'an object whose values are strings');
  }
  const entries = Object.entries(headers as Record<string, unknown>);
  if (entries.length > maxHeaders) {
    throw errors.invalidInput(`${where}headers`, `${entries.length} headers`, `at most ${maxHeaders} headers`);
  }
  for (const [name, value] of entries) {
    if (name.length === 0 || name.length > maxHeaderNameLength) {
      throw errors.invalidInput(`${where}headers`, name, `header names of 1 to ${maxHeaderNameLength} characters`);
    }
    if (name.toLowerCase().startsWith(reservedHeaderPrefix)) {
      throw errors.invalidInput(`${where}headers`, name, `a header name that does not start with ${reservedHeaderPrefix}, which evq reserves for its own headers`);
    }
    if (typeof value !== 'string' || value.length > maxHeaderValueLength) {
      throw errors.invalidInput(`${where}headers.${name}`, value, `a string of at most ${maxHeaderValueLength} characters`);
    }
  }
  return headers as Record<string, string>;
}

function validateDelay(input: PublishInput, queue: QueueConfig, where: string, now: number): Date | null {
  const hasDelay = input.delaySeconds != null;
  const hasDeliverAt = input.deliverAt != null;
  if (hasDelay && hasDeliverAt) {
    throw errors.invalidInput(`${where}deliverAt`, input.deliverAt, 'either delaySeconds or deliverAt, not both');
  }
  if (hasDelay) {
    const seconds = validateInteger(`${where}delaySeconds`, input.delaySeconds, 0, queue.retentionSeconds);
    return seconds === 0 ? null : new Date(now + seconds * 1000);
  }
  if (hasDeliverAt) {
    const deliverAt = input.deliverAt instanceof Date ? input.deliverAt : new Date(String(input.deliverAt));
    if (Number.isNaN(deliverAt.getTime())) {
      throw errors.invalidInput(`${where}deliverAt`, input.deliverAt, 'an ISO 8601 date-time');
    }
    const latest = now + queue.retentionSeconds * 1000;
    if (deliverAt.getTime() > latest) {
      throw new EvqError(
        'BAD_USER_INPUT',
        `Invalid ${where}deliverAt: ${deliverAt.toISOString()} is after the queue's retention ends (${new Date(latest).toISOString()}).`,
        { field: `${where}deliverAt`, value: deliverAt.toISOString(), max: new Date(latest).toISOString() },
      );
    }
    return deliverAt.getTime() <= now ? null : deliverAt;
  }
  return null;
}
