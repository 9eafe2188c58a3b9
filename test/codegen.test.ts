import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../codegen.ts';

describe('src/client/gql', () => {
  it('matches what codegen generates', async () => {
    // On failure: run `npm run codegen` and commit src/client/gql/.
    const outputs = await generate({ ...config, cwd: process.cwd(), silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const committed = await readFile(join(process.cwd(), output.filename), 'utf8');
      expect(committed, output.filename).toBe(output.content);
    }
  }, 60_000);
});
