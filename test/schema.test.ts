import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printEvqSchema } from '../src/graphql/schema.ts';

describe('schema/schema.graphql', () => {
  it('matches the schema the code builds', async () => {
    const committed = await readFile(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
    // On failure: run `npm run schema:print` and commit schema/schema.graphql.
    expect(committed).toBe(printEvqSchema());
  });
});
