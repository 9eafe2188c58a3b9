// Work-queue throughput: workers receive batches of 10 over REST and ack them, against evq on the
// embedded engine in a child process. Prints messages received and acked per second.
// Usage: node bench/work-queue.ts [--messages 100000] [--workers 20] [--batch 10]
import { parseArgs } from 'node:util';
import { benchToken, startServer, stopServer } from './servers/child.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    workers: { type: 'string', default: '20' },
    batch: { type: 'string', default: '10' },
  },
});
const total = Number(values.messages);
const workers = Number(values.workers);
const batch = Number(values.batch);
const token = benchToken;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

const { child, url } = await startServer('bench/servers/evq.ts');

async function post(path: string, body: unknown): Promise<any> {
  const response = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const result = await response.json();
  if (!response.ok || result.errors) throw new Error(`${path} failed: ${JSON.stringify(result)}`);
  return result;
}

await post('/graphql', { query: 'mutation { createQueue(input: { name: "work", partitions: 4 }) { name } }' });
const publishBatch = 'mutation ($messages: [PublishInput!]!) { publishBatch(queue: "work", messages: $messages) { id } }';
for (let published = 0; published < total; published += 1000) {
  const messages = Array.from({ length: Math.min(1000, total - published) }, (_, index) => ({ data: { task: published + index } }));
  await post('/graphql', { query: publishBatch, variables: { messages } });
}

let acked = 0;
const started = performance.now();
const cpuBefore = process.cpuUsage();
await Promise.all(
  Array.from({ length: workers }, async () => {
    for (;;) {
      const { deliveries } = await post('/queue/receive', { queue: 'work', limit: batch, visibilitySeconds: 60 });
      if (deliveries.length === 0) return;
      const { results } = await post('/queue/ack', { queue: 'work', receipts: deliveries.map((delivery: { receipt: string }) => delivery.receipt) });
      acked += results.filter((result: { acked: boolean }) => result.acked).length;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);

console.log(`Node ${process.version}, ${total} messages, ${workers} workers, batches of ${batch}`);
console.table([
  {
    'messages acked': acked,
    seconds: Number(seconds.toFixed(2)),
    'receive+ack per second': Math.round(acked / seconds),
    'generator CPU %': Math.round(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100),
  },
]);
await stopServer(child);
