import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NewMessage, SharedRecords } from '../../src/engines/engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { EvqKeyRing } from '../../src/signing/evq-keys.ts';
import { MessageSeal } from '../../src/signing/message-seal.ts';
import { SecretBox } from '../../src/signing/secret-box.ts';

/** Shared records held in memory, calling listeners on every write as the engines do. */
function memoryRecords(): SharedRecords {
  const values = new Map<string, string>();
  const listeners = new Set<(key: string, value: string | null) => void>();
  return {
    get: (key) => values.get(key) ?? null,
    list: (prefix) =>
      [...values]
        .filter(([key]) => key.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, value]) => ({ key, value })),
    async put(key, value) {
      values.set(key, value);
      for (const listener of listeners) listener(key, value);
    },
    async delete(key) {
      values.delete(key);
      for (const listener of listeners) listener(key, null);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function message(id: string): NewMessage {
  return { id, key: null, headers: {}, data: JSON.stringify({ id }), producer: 'admin', deliverAt: null };
}

async function newSeal(): Promise<MessageSeal> {
  const keys = new EvqKeyRing(memoryRecords(), new SecretBox(randomBytes(32)), silentLogger());
  await keys.start();
  return new MessageSeal(keys);
}

describe('MessageSeal', () => {
  it('shares one signature per queue within a turn', async () => {
    const seal = await newSeal();
    const now = Date.now();
    const [a1, a2, b1] = await Promise.all([
      seal.seal('queue-a', [message('a1')], [{ id: 'a1' }], now),
      seal.seal('queue-a', [message('a2'), message('a3')], [{ id: 'a2' }, { id: 'a3' }], now),
      seal.seal('queue-b', [message('b1')], [{ id: 'b1' }], now),
    ]);

    const value = (sealed: NewMessage) => sealed.headers['evq-signature'];
    const proof = (sealed: NewMessage) => sealed.headers['evq-proof']!.split(':').slice(0, 2).join(':');
    expect(value(a1![0]!)).toBe(value(a2![0]!));
    expect(value(a1![0]!)).not.toBe(value(b1![0]!));
    expect([...a1!, ...a2!].map(proof)).toEqual(['0:3', '1:3', '2:3']);
    expect(b1!.map(proof)).toEqual(['0:1']);
  });

  it('checks what it sealed and rejects a changed record', async () => {
    const seal = await newSeal();
    const [sealed] = await seal.seal('queue-a', [message('m1')], [{ id: 'm1' }], Date.now());
    const stored = { ...sealed!, queue: 'queue-a', partition: 0, offset: 0, publishedAt: new Date() };

    expect(seal.check(stored)).toBeNull();
    expect(seal.check({ ...stored, data: JSON.stringify({ id: 'm2' }) })).toBe('the record does not match its evq signature');
    expect(seal.check({ ...stored, queue: 'queue-b' })).toBe('the record does not match its evq signature');
    expect(seal.check({ ...stored, headers: {} })).toBe('the record has no evq signature');
  });
});
