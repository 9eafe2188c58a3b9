import { describe, expect, it } from 'vitest';
import { abortable } from '../../src/queues/abortable.ts';

describe('abortable', () => {
  it('runs onEnd when stopped before the first next', async () => {
    let ended = 0;
    const iterator = abortable(
      async function* () {
        yield 1;
      },
      undefined,
      () => ended++,
    );
    await iterator.return(undefined);
    await iterator.return(undefined);
    expect(ended).toBe(1);
  });

  it('runs onEnd once when the generator completes', async () => {
    let ended = 0;
    const iterator = abortable(
      async function* () {
        yield 1;
        yield 2;
      },
      undefined,
      () => ended++,
    );
    const values: number[] = [];
    for await (const value of iterator) values.push(value);
    expect(values).toEqual([1, 2]);
    expect(ended).toBe(1);
  });

  it('aborts a pending wait on return', async () => {
    let sawAbort = false;
    const iterator = abortable(async function* (signal) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      sawAbort = signal.aborted;
      yield 1;
    });
    const pending = iterator.next();
    const returned = iterator.return(undefined);
    expect(await pending).toEqual({ value: 1, done: false });
    expect(await returned).toEqual({ value: undefined, done: true });
    expect(sawAbort).toBe(true);
  });

  it('follows the parent signal', async () => {
    const parent = new AbortController();
    let signalSeen: AbortSignal | undefined;
    const iterator = abortable(async function* (signal) {
      signalSeen = signal;
      yield 1;
    }, parent.signal);
    await iterator.next();
    parent.abort();
    expect(signalSeen!.aborted).toBe(true);
  });
});
