import { errors } from '../errors.ts';
import type { QueueSettings } from './engine.ts';

/** The defaults that the `QueueSettings` documentation promises, shared by every engine. */
export const defaultQueueSettings: Required<QueueSettings> = {
  partitions: 1,
  retentionSeconds: 7 * 24 * 60 * 60,
  visibilityTimeoutSeconds: 30,
  maxAttempts: 5,
  requireSignature: false,
};

export const maxPartitions = 64;

/**
 * Checks the settings a caller gave and returns them merged over `base` (the defaults for a new
 * queue, the stored settings for an update). Throws BAD_USER_INPUT naming the first invalid field.
 * Tighter limits, such as the configured visibility range, are the queue service's to enforce.
 */
export function mergeQueueSettings(base: Required<QueueSettings>, settings: QueueSettings): Required<QueueSettings> {
  const merged = { ...base };
  if (settings.partitions !== undefined) {
    const { partitions } = settings;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > maxPartitions) {
      throw errors.outOfRange('partitions', partitions, 1, maxPartitions);
    }
    merged.partitions = partitions;
  }
  if (settings.retentionSeconds !== undefined) {
    merged.retentionSeconds = checkPositiveInteger('retentionSeconds', settings.retentionSeconds);
  }
  if (settings.visibilityTimeoutSeconds !== undefined) {
    merged.visibilityTimeoutSeconds = checkPositiveInteger(
      'visibilityTimeoutSeconds',
      settings.visibilityTimeoutSeconds,
    );
  }
  if (settings.maxAttempts !== undefined) {
    merged.maxAttempts = checkPositiveInteger('maxAttempts', settings.maxAttempts);
  }
  if (settings.requireSignature !== undefined) {
    if (typeof settings.requireSignature !== 'boolean') {
      throw errors.invalidInput('requireSignature', settings.requireSignature, 'true or false');
    }
    merged.requireSignature = settings.requireSignature;
  }
  return merged;
}

function checkPositiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw errors.invalidInput(field, value, 'a positive integer');
  }
  return value;
}
