import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEvq, type TestEvq } from '../helpers/evq.ts';

let evq: TestEvq;

beforeAll(async () => {
  evq = await startEvq({ EVQ_MAX_DEPTH: '2', EVQ_MAX_SUBSCRIPTIONS_PER_SOCKET: '2' });
});

afterAll(async () => {
  await evq.close();
});

describe('GraphQL document limits', () => {
  it('rejects a query deeper than the limit', async () => {
    const result = await evq.gql('{ queues { stats { ready } } }');
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('Query depth limit of 2 exceeded');
  });

  it('accepts a query within the depth limit', async () => {
    const result = await evq.gql('{ queues { name } }');
    expect(result.errors).toBeUndefined();
  });

  it('rejects more than 15 aliases', async () => {
    const aliases = Array.from({ length: 16 }, (_, index) => `a${index}: queues { name }`).join(' ');
    const result = await evq.gql(`{ ${aliases} }`);
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('Aliases limit of 15 exceeded');
  });

  it('rejects more than 2000 tokens', async () => {
    const fields = Array.from({ length: 2100 }, () => 'name').join(' ');
    const result = await evq.gql(`{ queues { ${fields} } }`);
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('Token limit of 2000 exceeded');
  });
});

describe('graphql-ws limits', () => {
  it('rejects subscriptions past the per-socket limit', async () => {
    const queue = await evq.createQueue();
    const client = evq.wsClient();
    const query = 'subscription ($queue: String!) { messages(queue: $queue) { id } }';
    const open = [client.iterate({ query, variables: { queue } }), client.iterate({ query, variables: { queue } })];
    const pending = open.map((iterator) => iterator.next());
    await new Promise((resolve) => setTimeout(resolve, 200));

    const third = client.iterate({ query, variables: { queue } });
    const rejected = await third.next().then(
      (result) => result,
      (errors: unknown) => ({ value: { errors } }),
    );
    const errors = (rejected.value as { errors: Array<{ extensions: { code: string; limit: number } }> }).errors;
    expect(errors[0]!.extensions).toEqual({ code: 'RATE_LIMITED', limit: 2 });

    await Promise.all(open.map((iterator) => iterator.return?.()));
    await Promise.allSettled(pending);
  });
});
