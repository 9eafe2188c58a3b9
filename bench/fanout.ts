// Fan-out over graphql-ws: many sockets subscribe to one queue, messages are published one at a
// time, and every socket counts what it receives. Compares evq (embedded engine) with bare Yoga +
// graphql-ws and an in-memory pubsub, in the same run.
// Usage: node bench/fanout.ts [--subscribers 5000] [--messages 100] [--memory-sockets 10000]
// Prints deliveries per second, publish-to-subscriber latency (sampled sockets, at half the
// measured peak message rate), and the server's RSS growth for the memory socket count.
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { benchNodeEnv, benchToken, startServer, stopServer } from './servers/child.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '5000' },
    messages: { type: 'string', default: '100' },
    'memory-sockets': { type: 'string', default: '10000' },
  },
});
const subscriberCount = Number(values.subscribers);
const messageCount = Number(values.messages);
const memorySockets = Number(values['memory-sockets']);
const token = benchToken;
const nodeEnv = benchNodeEnv;
/** One socket in this many parses its messages to measure latency; the rest only count them. */
const latencySampleEvery = 50;

interface Target {
  name: string;
  script: string;
  subscription: string;
  connectionParams: Record<string, string>;
  setup(url: string): Promise<void>;
  publish(url: string, data: { sentAt: number; n: number }): Promise<void>;
}

async function post(url: string, body: unknown, auth: boolean): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url} returned ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

const targets: Target[] = [
  {
    name: 'bare Yoga + graphql-ws (in-memory pubsub)',
    script: 'bench/servers/bare-yoga-ws.ts',
    subscription: 'subscription { messages(queue: "fanout") { id data } }',
    connectionParams: {},
    setup: async () => {},
    publish: (url, data) => post(`${url}/publish`, { id: String(data.n), data }, false),
  },
  {
    name: 'evq messages subscription',
    script: 'bench/servers/evq.ts',
    subscription: 'subscription { messages(queue: "fanout") { id data } }',
    connectionParams: { authorization: `Bearer ${token}` },
    setup: (url) => post(`${url}/graphql`, { query: 'mutation { createQueue(input: { name: "fanout" }) { name } }' }, true),
    publish: (url, data) => post(`${url}/queue/publish`, { queue: 'fanout', data }, true),
  },
];

interface Subscribers {
  sockets: WebSocket[];
  received(): number;
  latencies: number[];
}

/** Opens graphql-ws sockets in waves and subscribes each. Resolves when every one is acknowledged. */
async function subscribe(url: string, target: Target, count: number): Promise<Subscribers> {
  let received = 0;
  const latencies: number[] = [];
  const sockets: WebSocket[] = [];
  const open = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      const sampled = index % latencySampleEvery === 0;
      socket.once('error', reject);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: target.connectionParams })));
      socket.on('message', (raw: Buffer) => {
        const text = raw.toString();
        if (text.includes('"type":"next"')) {
          received++;
          if (sampled) {
            const sentAt = /"sentAt":(\d+(?:\.\d+)?)/.exec(text);
            if (sentAt) latencies.push(performance.timeOrigin + performance.now() - Number(sentAt[1]));
          }
        } else if (text.includes('"type":"connection_ack"')) {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: target.subscription } }));
          resolve();
        } else if (text.includes('"type":"error"')) {
          reject(new Error(`subscription failed: ${text}`));
        }
      });
      sockets.push(socket);
    });
  for (let start = 0; start < count; start += 250) {
    await Promise.all(Array.from({ length: Math.min(250, count - start) }, (_, offset) => open(start + offset)));
  }
  // Subscriptions are set up after the ack; give the server a moment to register the last ones.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { sockets, received: () => received, latencies };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function serverRss(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve((message as { rss: number }).rss));
    child.send('rss');
  });
}

async function stop(child: ChildProcess, subscribers: Subscribers): Promise<void> {
  for (const socket of subscribers.sockets) socket.terminate();
  await stopServer(child);
}

const rows: Array<Record<string, string | number>> = [];
for (const target of targets) {
  // Throughput and latency with `subscriberCount` sockets.
  let { child, url } = await startServer(target.script);
  await target.setup(url);
  let subscribers = await subscribe(url, target, subscriberCount);

  const expected = subscriberCount * messageCount;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let n = 0; n < messageCount; n++) {
    await target.publish(url, { sentAt: performance.timeOrigin + performance.now(), n });
  }
  const complete = await waitFor(() => subscribers.received() >= expected, 120_000);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const delivered = subscribers.received();
  const deliveriesPerSecond = delivered / seconds;

  // Latency at half the peak message rate reached above.
  const halfRate = Math.max(1, messageCount / seconds / 2);
  subscribers.latencies.length = 0;
  for (let n = 0; n < Math.min(messageCount, 50); n++) {
    const tickStarted = performance.now();
    await target.publish(url, { sentAt: performance.timeOrigin + performance.now(), n });
    const pause = 1000 / halfRate - (performance.now() - tickStarted);
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const latencies = [...subscribers.latencies].sort((a, b) => a - b);
  await stop(child, subscribers);

  // Memory of `memorySockets` subscribed sockets.
  ({ child, url } = await startServer(target.script));
  await target.setup(url);
  const rssBefore = await serverRss(child);
  subscribers = await subscribe(url, target, memorySockets);
  const rssAfter = await serverRss(child);
  await stop(child, subscribers);

  rows.push({
    server: target.name,
    'deliveries/s': Math.round(deliveriesPerSecond),
    complete: complete ? 'yes' : `no (${delivered} of ${expected})`,
    'latency p50 ms': Number(percentile(latencies, 0.5).toFixed(1)),
    'latency p99 ms': Number(percentile(latencies, 0.99).toFixed(1)),
    [`RSS +MB for ${memorySockets} sockets`]: Math.round((rssAfter - rssBefore) / 1024 / 1024),
    'generator CPU %': Math.round(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100),
  });
}

console.log(`Node ${process.version}, NODE_ENV=${nodeEnv}, ${subscriberCount} subscribers, ${messageCount} messages published one at a time`);
console.table(rows);
