import { errors } from '../errors.ts';
import type { Position } from '../engines/engine.ts';

/**
 * Cursors are opaque to clients: base64url of `{"v":1,"q":queue,"p":[offsets]}`, where `p` is the
 * next offset to read in each partition. The queue name is inside so a cursor from another queue
 * is rejected instead of silently reading the wrong offsets.
 */
export function encodeCursor(queue: string, position: Position): string {
  return Buffer.from(JSON.stringify({ v: 1, q: queue, p: position })).toString('base64url');
}

/** Decodes a cursor for `queue`. Throws BAD_USER_INPUT naming the cursor when it is malformed. */
export function decodeCursor(queue: string, cursor: string): Position {
  if (cursor.length === 0 || cursor.length > 16_384 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw errors.cursorInvalid(cursor, 'not a cursor that evq returned');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw errors.cursorInvalid(cursor, 'not a cursor that evq returned');
  }
  if (!isCursorShape(decoded)) {
    throw errors.cursorInvalid(cursor, 'not a cursor that evq returned');
  }
  if (decoded.q !== queue) {
    throw errors.cursorInvalid(cursor, `it belongs to queue ${JSON.stringify(decoded.q)}, not ${JSON.stringify(queue)}`);
  }
  return decoded.p;
}

function isCursorShape(value: unknown): value is { v: 1; q: string; p: number[] } {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    candidate.v === 1 &&
    typeof candidate.q === 'string' &&
    Array.isArray(candidate.p) &&
    candidate.p.length > 0 &&
    candidate.p.every((offset) => Number.isSafeInteger(offset) && (offset as number) >= 0)
  );
}
