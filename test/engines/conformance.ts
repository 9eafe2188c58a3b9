import { afterAll, beforeAll, describe } from 'vitest';
import type { Engine } from '../../src/engines/engine.ts';
import { describeDeadLetters } from './conformance/dead-letters.ts';
import type { ConformanceSetup } from './conformance/helpers.ts';
import { describeLifecycle } from './conformance/lifecycle.ts';
import { describeNonceClaims } from './conformance/nonces.ts';
import { describeQuarantine } from './conformance/quarantine.ts';
import { describeQueues } from './conformance/queues.ts';
import { describeSharedRecords } from './conformance/shared-records.ts';
import { describeStream } from './conformance/stream.ts';
import { describeWorkQueue } from './conformance/work-queue.ts';

export type { ConformanceSetup } from './conformance/helpers.ts';

/**
 * Registers the tests that every `Engine` must pass. Most tests share one engine from
 * `setup.create()` and each makes its own queue named `test-<uuid>`; the lifecycle and restart
 * tests create engines of their own. The suite checks the port's contract only, so the SQLite and
 * Kafka engines run the same tests.
 */
export function describeEngineConformance(name: string, setup: ConformanceSetup): void {
  describe(`${name} engine conformance`, () => {
    let shared: Engine | null = null;
    const suite = {
      setup,
      engine(): Engine {
        if (shared === null) {
          throw new Error('The shared engine is not created yet; use it inside tests only.');
        }
        return shared;
      },
    };

    beforeAll(async () => {
      shared = await setup.create();
    });

    afterAll(async () => {
      await shared?.close();
      await setup.cleanup?.();
    });

    describeQueues(suite);
    describeStream(suite);
    describeWorkQueue(suite);
    describeDeadLetters(suite);
    describeLifecycle(suite);
    describeSharedRecords(suite);
    describeNonceClaims(suite);
    describeQuarantine(suite);
  });
}
