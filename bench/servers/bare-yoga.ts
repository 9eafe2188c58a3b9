// Baseline: a bare graphql-yoga server that resolves a trivial publish mutation without storage.
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

const yoga = createYoga({
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      scalar JSON
      type PublishResult { id: String! duplicate: Boolean! }
      input PublishInput { data: JSON! }
      type Query { ok: Boolean }
      type Mutation { publish(queue: String!, message: PublishInput!): PublishResult! }
    `,
    resolvers: {
      Mutation: { publish: () => ({ id: '00000000-0000-0000-0000-000000000000', duplicate: false }) },
    },
  }),
  logging: false,
});
const server = createServer(yoga);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: (server.address() as { port: number }).port });
});
