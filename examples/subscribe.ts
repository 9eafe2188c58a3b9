// Subscribes to a queue's messages over graphql-ws and prints each one with its cursor. Pass a
// cursor to resume after it; without one it starts from the earliest retained message.
// Usage: npm run example:subscribe -- [queue] [cursor]
import { connect, ensureQueue, runExample } from './connect.ts';
import { Messages } from './operations.ts';

const queue = process.argv[2] ?? 'example';
const after = process.argv[3] ?? null;
await runExample(async () => {
  const { client, url, token } = await connect();
  await ensureQueue(url, token, queue);
  process.once('SIGINT', () => void client.close().then(() => process.exit(0)));

  console.log(`subscribing to ${queue}${after ? ` after ${after}` : ' from the earliest message'}`);
  try {
    for await (const { messages: message } of client.subscribe(Messages, { queue, after, from: after ? null : 'EARLIEST' })) {
      console.log(JSON.stringify({ id: message.id, key: message.key, data: message.data, cursor: message.cursor }));
    }
  } finally {
    await client.close();
  }
});
