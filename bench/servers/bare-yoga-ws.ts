// Baseline: bare graphql-yoga with graphql-ws and an in-memory pubsub. POST /publish sends the
// JSON body to every `messages` subscriber; it stores nothing and checks no token.
import { createServer } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createPubSub, createSchema, createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';

const pubsub = createPubSub<{ message: [payload: { id: string; data: unknown }] }>();
const yoga = createYoga({
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      scalar JSON
      type Message { id: String! data: JSON }
      type Query { ok: Boolean }
      type Subscription { messages(queue: String!): Message! }
    `,
    resolvers: {
      Subscription: { messages: { subscribe: () => pubsub.subscribe('message'), resolve: (payload: unknown) => payload } },
    },
  }),
  logging: false,
});

const server = createServer((request, response) => {
  if (request.url === '/publish') {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      pubsub.publish('message', JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.end('{}');
    });
    return;
  }
  void yoga(request, response);
});

type Roots = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
const wsServer = new WebSocketServer({ server, path: '/graphql' });
useServer(
  {
    execute: (args) => (args.rootValue as Roots).execute(args) as never,
    subscribe: (args) => (args.rootValue as Roots).subscribe(args) as never,
    onSubscribe: async (ctx, _id, params) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ ...ctx, params });
      const document = parse(params.query);
      const errors = validate(schema, document);
      if (errors.length > 0) return errors;
      return {
        schema,
        document,
        operationName: params.operationName ?? null,
        variableValues: params.variables ?? null,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe } satisfies Roots,
      };
    },
  },
  wsServer,
);

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: (server.address() as { port: number }).port });
});
process.on('message', (message) => {
  if (message === 'rss') process.send?.({ rss: process.memoryUsage().rss });
});
