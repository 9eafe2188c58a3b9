import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Engine } from '../../../src/engines/engine.ts';
import { withOwnEngine, type ConformanceSuite } from './helpers.ts';

type Change = [key: string, value: string | null];

/** Returns a key prefix that no other test uses. */
function uniquePrefix(): string {
  return `test-${randomUUID()}/`;
}

/** Collects the changes that `engine` reports for keys under `prefix` until the test finishes. */
function collectChanges(engine: Engine, prefix: string): Change[] {
  const changes: Change[] = [];
  const stop = engine.records.onChange((key, value) => {
    if (key.startsWith(prefix)) {
      changes.push([key, value]);
    }
  });
  onTestFinished(stop);
  return changes;
}

/** Registers the tests of `engine.records`: reads, writes, listeners, validation and restarts. */
export function describeSharedRecords(suite: ConformanceSuite): void {
  const { setup } = suite;

  describe('shared records', () => {
    it('get returns what put stored', async () => {
      const { records } = suite.engine();
      const key = `${uniquePrefix()}account`;

      expect(records.get(key)).toBeNull();
      await records.put(key, '{"role":"reader"}');

      expect(records.get(key)).toBe('{"role":"reader"}');
    });

    it('put stores an empty value', async () => {
      const { records } = suite.engine();
      const key = `${uniquePrefix()}empty`;

      await records.put(key, '');

      expect(records.get(key)).toBe('');
    });

    it('put overwrites the value', async () => {
      const { records } = suite.engine();
      const key = `${uniquePrefix()}account`;
      await records.put(key, 'first');

      await records.put(key, 'second');

      expect(records.get(key)).toBe('second');
      expect(records.list(key)).toEqual([{ key, value: 'second' }]);
    });

    it('list returns keys with the prefix, sorted', async () => {
      const { records } = suite.engine();
      const prefix = uniquePrefix();
      const keys = ['b', 'a/2', 'a', 'B', 'a/10'].map((suffix) => `${prefix}${suffix}`);
      await Promise.all(keys.map((key) => records.put(key, `value of ${key}`)));
      await records.put(`${prefix.slice(0, -1)}-outside`, 'outside');

      const expectedOrder = ['B', 'a', 'a/10', 'a/2', 'b'];
      expect(records.list(prefix)).toEqual(
        expectedOrder.map((suffix) => ({ key: `${prefix}${suffix}`, value: `value of ${prefix}${suffix}` })),
      );
      expect(records.list(`${prefix}a`).map((record) => record.key)).toEqual(
        ['a', 'a/10', 'a/2'].map((suffix) => `${prefix}${suffix}`),
      );
      expect(records.list(`${prefix}zzz`)).toEqual([]);
      expect(records.list('').filter((record) => record.key.startsWith(prefix))).toHaveLength(5);
    });

    it('delete removes the key', async () => {
      const { records } = suite.engine();
      const prefix = uniquePrefix();
      await records.put(`${prefix}kept`, 'kept');
      await records.put(`${prefix}removed`, 'removed');

      await records.delete(`${prefix}removed`);

      expect(records.get(`${prefix}removed`)).toBeNull();
      expect(records.list(prefix)).toEqual([{ key: `${prefix}kept`, value: 'kept' }]);
    });

    it('delete of a missing key resolves', async () => {
      const engine = suite.engine();
      const prefix = uniquePrefix();
      const changes = collectChanges(engine, prefix);

      await expect(engine.records.delete(`${prefix}missing`)).resolves.toBeUndefined();

      expect(engine.records.get(`${prefix}missing`)).toBeNull();
      expect(changes).toEqual([]);
    });

    it('onChange reports each put and delete', async () => {
      const engine = suite.engine();
      const prefix = uniquePrefix();
      const changes = collectChanges(engine, prefix);

      await engine.records.put(`${prefix}a`, '1');
      expect(changes).toEqual([[`${prefix}a`, '1']]);
      await engine.records.put(`${prefix}b`, '2');
      await engine.records.put(`${prefix}a`, '3');
      await engine.records.delete(`${prefix}a`);
      expect(changes.at(-1)).toEqual([`${prefix}a`, null]);
      await engine.records.delete(`${prefix}a`);

      expect(changes).toEqual([
        [`${prefix}a`, '1'],
        [`${prefix}b`, '2'],
        [`${prefix}a`, '3'],
        [`${prefix}a`, null],
      ]);
    });

    it('concurrent writes to one key apply in call order', async () => {
      const engine = suite.engine();
      const prefix = uniquePrefix();
      const key = `${prefix}contended`;
      const changes = collectChanges(engine, prefix);

      await Promise.all([
        engine.records.put(key, '1'),
        engine.records.put(key, '2'),
        engine.records.delete(key),
        engine.records.put(key, '4'),
      ]);

      expect(engine.records.get(key)).toBe('4');
      expect(changes).toEqual([
        [key, '1'],
        [key, '2'],
        [key, null],
        [key, '4'],
      ]);
    });

    it('unsubscribe stops a listener', async () => {
      const engine = suite.engine();
      const prefix = uniquePrefix();
      const changes: Change[] = [];
      const stop = engine.records.onChange((key, value) => {
        if (key.startsWith(prefix)) {
          changes.push([key, value]);
        }
      });
      await engine.records.put(`${prefix}a`, '1');

      stop();
      await engine.records.put(`${prefix}a`, '2');

      expect(changes).toEqual([[`${prefix}a`, '1']]);
    });

    it('a throwing listener does not stop the others', async () => {
      const engine = suite.engine();
      const prefix = uniquePrefix();
      const stopThrowing = engine.records.onChange((key) => {
        if (key.startsWith(prefix)) {
          throw new Error('listener failure injected by the test');
        }
      });
      onTestFinished(stopThrowing);
      const changes = collectChanges(engine, prefix);

      await engine.records.put(`${prefix}a`, '1');

      expect(changes).toEqual([[`${prefix}a`, '1']]);
      expect(engine.records.get(`${prefix}a`)).toBe('1');
    });

    it('invalid keys, values and prefixes are BAD_USER_INPUT', async () => {
      const { records } = suite.engine();
      const key = `${uniquePrefix()}a`;

      await expect(records.put('', 'value')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'key' } });
      await expect(records.put(key, 42 as unknown as string)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'value' },
      });
      await expect(records.put(key, null as unknown as string)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'value' },
      });
      await expect(records.delete('')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'key' } });
      expect(() => records.list(undefined as unknown as string)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
      expect(records.get(key)).toBeNull();
    });

    it('records are ENGINE_UNAVAILABLE after close', async () => {
      await withOwnEngine(setup, async (engine) => {
        const key = `${uniquePrefix()}a`;
        await engine.records.put(key, '1');

        await engine.close();

        await expect(engine.records.put(key, '2')).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
        await expect(engine.records.delete(key)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
        expect(() => engine.records.get(key)).toThrow(expect.objectContaining({ code: 'ENGINE_UNAVAILABLE' }));
        expect(() => engine.records.list('')).toThrow(expect.objectContaining({ code: 'ENGINE_UNAVAILABLE' }));
      });
    });

    it.skipIf(setup.reopen === undefined)('records survive a restart', async () => {
      await withOwnEngine(setup, async (engine, replace) => {
        const prefix = uniquePrefix();
        await engine.records.put(`${prefix}a`, 'first');
        await engine.records.put(`${prefix}a`, 'second');
        await engine.records.put(`${prefix}b`, 'kept');
        await engine.records.put(`${prefix}c`, 'removed');
        await engine.records.delete(`${prefix}c`);

        const reopened = await setup.reopen!(engine);
        replace(reopened);

        expect(reopened.records.get(`${prefix}a`)).toBe('second');
        expect(reopened.records.get(`${prefix}c`)).toBeNull();
        expect(reopened.records.list(prefix)).toEqual([
          { key: `${prefix}a`, value: 'second' },
          { key: `${prefix}b`, value: 'kept' },
        ]);
      });
    });
  });
}
