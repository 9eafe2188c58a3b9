import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { maxNonceWindowMs } from '../../../src/engines/engine.ts';
import { withOwnEngine, type ConformanceSuite } from './helpers.ts';

/** Window of the claims whose window must not end during a test: ten minutes. */
const longWindowMs = 600_000;

/** Returns a claim key that no other test uses, shaped like the service's `<keyId>\n<nonce>`. */
function uniqueKey(): string {
  return `test-key\n${randomUUID()}`;
}

/** Registers the tests of `engine.nonces`: who holds a key, windows, concurrency and restarts. */
export function describeNonceClaims(suite: ConformanceSuite): void {
  const { setup } = suite;

  describe('nonce claims', () => {
    it('first claim returns its owner', async () => {
      const { nonces } = suite.engine();

      expect(await nonces.claim(uniqueKey(), 'message-a', longWindowMs)).toBe('message-a');
    });

    it('second owner gets the first owner', async () => {
      const { nonces } = suite.engine();
      const key = uniqueKey();
      await nonces.claim(key, 'message-a', longWindowMs);

      expect(await nonces.claim(key, 'message-b', longWindowMs)).toBe('message-a');
      expect(await nonces.claim(key, 'message-c', longWindowMs)).toBe('message-a');
    });

    it('same owner claiming again gets itself', async () => {
      const { nonces } = suite.engine();
      const key = uniqueKey();
      await nonces.claim(key, 'message-a', longWindowMs);

      expect(await nonces.claim(key, 'message-a', longWindowMs)).toBe('message-a');
    });

    it('keys are claimed independently', async () => {
      const { nonces } = suite.engine();
      const first = uniqueKey();
      const second = uniqueKey();
      await nonces.claim(first, 'message-a', longWindowMs);

      expect(await nonces.claim(second, 'message-b', longWindowMs)).toBe('message-b');
      expect(await nonces.claim(`${first}-other`, 'message-c', longWindowMs)).toBe('message-c');
    });

    it('claim after the window takes the key', async () => {
      const { nonces } = suite.engine();
      const key = uniqueKey();
      await nonces.claim(key, 'message-a', 500);

      await sleep(600);

      expect(await nonces.claim(key, 'message-b', 500)).toBe('message-b');
      expect(await nonces.claim(key, 'message-a', 500)).toBe('message-b');
    });

    it('losing claim does not extend the window', async () => {
      const { nonces } = suite.engine();
      const key = uniqueKey();
      await nonces.claim(key, 'message-a', 1000);
      const firstHeldUntil = Date.now() + 1000;
      await sleep(300);
      const loserClaimedAt = Date.now();

      const loser = await nonces.claim(key, 'message-b', 1000);
      await sleep(Math.max(firstHeldUntil - Date.now(), 0) + 100);

      expect(loser).toBe('message-a');
      // The loser's own window would still run here, so a claim that extended it would fail.
      expect(Date.now() - loserClaimedAt).toBeLessThan(1000);
      expect(await nonces.claim(key, 'message-c', 1000)).toBe('message-c');
    });

    it('concurrent claims agree on one owner', async () => {
      const { nonces } = suite.engine();
      const key = uniqueKey();
      const owners = ['message-a', 'message-b', 'message-c', 'message-d', 'message-e'];

      const holders = await Promise.all(owners.map((owner) => nonces.claim(key, owner, longWindowMs)));

      expect(new Set(holders).size).toBe(1);
      expect(owners).toContain(holders[0]);
      expect(await nonces.claim(key, 'message-f', longWindowMs)).toBe(holders[0]);
    });

    it('invalid keys, owners and windows are BAD_USER_INPUT', async () => {
      const { nonces } = suite.engine();
      const key = uniqueKey();
      const invalid: [string, unknown, unknown, unknown][] = [
        ['key', '', 'message-a', longWindowMs],
        ['key', 42, 'message-a', longWindowMs],
        ['owner', key, '', longWindowMs],
        ['owner', key, null, longWindowMs],
        ['windowMs', key, 'message-a', 0],
        ['windowMs', key, 'message-a', -1],
        ['windowMs', key, 'message-a', Number.NaN],
        ['windowMs', key, 'message-a', '1000'],
        ['windowMs', key, 'message-a', maxNonceWindowMs + 1],
      ];

      for (const [field, claimKey, owner, windowMs] of invalid) {
        await expect(
          nonces.claim(claimKey as string, owner as string, windowMs as number),
          `claim(${String(claimKey)}, ${String(owner)}, ${String(windowMs)})`,
        ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field } });
      }
      expect(await nonces.claim(key, 'message-b', maxNonceWindowMs)).toBe('message-b');
    });

    it('claims are ENGINE_UNAVAILABLE after close', async () => {
      await withOwnEngine(setup, async (engine) => {
        const key = uniqueKey();
        await engine.nonces.claim(key, 'message-a', longWindowMs);

        await engine.close();

        await expect(engine.nonces.claim(key, 'message-b', longWindowMs)).rejects.toMatchObject({
          code: 'ENGINE_UNAVAILABLE',
        });
      });
    });

    it.skipIf(setup.reopen === undefined)('claims survive a restart', async () => {
      await withOwnEngine(setup, async (engine, replace) => {
        const heldKey = uniqueKey();
        const expiringKey = uniqueKey();
        await engine.nonces.claim(heldKey, 'message-a', longWindowMs);
        await engine.nonces.claim(heldKey, 'message-b', longWindowMs);
        await engine.nonces.claim(expiringKey, 'message-a', 200);

        const reopened = await setup.reopen!(engine);
        replace(reopened);
        await sleep(300);

        expect(await reopened.nonces.claim(heldKey, 'message-c', longWindowMs)).toBe('message-a');
        expect(await reopened.nonces.claim(heldKey, 'message-a', longWindowMs)).toBe('message-a');
        expect(await reopened.nonces.claim(expiringKey, 'message-c', 200)).toBe('message-c');
      });
    });
  });
}
