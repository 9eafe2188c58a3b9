// A worker loop: receive up to 10 deliveries (long-polling 20 s), process each, ack the ones that
// succeeded and nack the ones that failed so they are retried and, after maxAttempts, dead-lettered.
// Usage: npm run example:worker -- [queue]   (stop with Ctrl-C)
import { connect, ensureQueue, runExample } from './connect.ts';
import { Ack, Nack, Receive } from './operations.ts';

const queue = process.argv[2] ?? 'example';
await runExample(async () => {
  const { client, url, token } = await connect();
  await ensureQueue(url, token, queue);

  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  console.log(`worker: receiving from ${queue}`);

  while (!controller.signal.aborted) {
    let deliveries;
    try {
      ({ receive: deliveries } = await client.request(Receive, { queue, limit: 10, waitSeconds: 20 }, controller.signal));
    } catch (error) {
      if (controller.signal.aborted) break;
      throw error;
    }
    const done: string[] = [];
    for (const delivery of deliveries) {
      try {
        console.log(`processing ${delivery.message.id} (attempt ${delivery.attempt}):`, JSON.stringify(delivery.message.data));
        done.push(delivery.receipt);
      } catch (error) {
        await client.request(Nack, { queue, receipt: delivery.receipt, delaySeconds: 5, error: String(error) });
      }
    }
    if (done.length > 0) {
      const { ack } = await client.request(Ack, { queue, receipts: done });
      console.log(`acked ${ack.filter((result) => result.acked).length} of ${done.length}`);
    }
  }
  console.log('worker: stopped');
});
