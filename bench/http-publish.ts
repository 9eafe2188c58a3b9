// Publish throughput over HTTP, with the baselines measured in the same run.
// Usage: node bench/http-publish.ts [--seconds 10] [--connections 50]
// Each server runs in its own child process, with NODE_ENV=production unless NODE_ENV is set.
// autocannon runs in this process. Its CPU time is reported because it shares the machine's cores
// with the server.
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { benchNodeEnv, benchToken, startServer, stopServer } from './servers/child.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const token = benchToken;
const nodeEnv = benchNodeEnv;

interface Scenario {
  name: string;
  server: string;
  path: string;
  body: string;
  /** Messages stored per request. */
  messages: number;
  auth: boolean;
  setup?: (url: string) => Promise<void>;
}

const publishMutation = 'mutation ($queue: String!, $message: PublishInput!) { publish(queue: $queue, message: $message) { id duplicate } }';
const batchMutation = 'mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }';
const payload = { orderId: 1234, customer: 'c-42', items: [{ sku: 'A-1', quantity: 2 }], total: 19.9 };

async function createQueue(url: string): Promise<void> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation { createQueue(input: { name: "bench" }) { name } }' }),
  });
  const body = (await response.json()) as { errors?: unknown };
  if (body.errors) throw new Error(`createQueue failed: ${JSON.stringify(body.errors)}`);
}

const scenarios: Scenario[] = [
  { name: 'bare node:http JSON', server: 'bench/servers/bare-http.ts', path: '/', body: JSON.stringify({ queue: 'bench', data: payload }), messages: 0, auth: false },
  {
    name: 'bare Yoga publish (no storage)',
    server: 'bench/servers/bare-yoga.ts',
    path: '/graphql',
    body: JSON.stringify({ query: publishMutation, variables: { queue: 'bench', message: { data: payload } } }),
    messages: 0,
    auth: false,
  },
  {
    name: 'evq GraphQL publish',
    server: 'bench/servers/evq.ts',
    path: '/graphql',
    body: JSON.stringify({ query: publishMutation, variables: { queue: 'bench', message: { data: payload } } }),
    messages: 1,
    auth: true,
    setup: createQueue,
  },
  {
    name: 'evq REST publish',
    server: 'bench/servers/evq.ts',
    path: '/queue/publish',
    body: JSON.stringify({ queue: 'bench', data: payload }),
    messages: 1,
    auth: true,
    setup: createQueue,
  },
  {
    name: 'evq GraphQL publishBatch of 100',
    server: 'bench/servers/evq.ts',
    path: '/graphql',
    body: JSON.stringify({ query: batchMutation, variables: { queue: 'bench', messages: Array.from({ length: 100 }, () => ({ data: payload })) } }),
    messages: 100,
    auth: true,
    setup: createQueue,
  },
];

const rows: Array<Record<string, string | number>> = [];
for (const scenario of scenarios) {
  const { child, url } = await startServer(scenario.server);
  try {
    await scenario.setup?.(url);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (scenario.auth) headers.authorization = `Bearer ${token}`;
    // A short warm-up lets V8 optimize the hot paths before the measured run.
    await autocannon({ url: url + scenario.path, method: 'POST', headers, body: scenario.body, connections, duration: 2 });

    const cpuBefore = process.cpuUsage();
    const result = await autocannon({ url: url + scenario.path, method: 'POST', headers, body: scenario.body, connections, duration: seconds });
    const cpu = process.cpuUsage(cpuBefore);
    const errors = result.non2xx + result.errors;
    rows.push({
      scenario: scenario.name,
      'req/s': Math.round(result.requests.average),
      'messages/s': Math.round(result.requests.average * scenario.messages),
      'p50 ms': result.latency.p50,
      'p99 ms': result.latency.p99,
      errors,
      'generator CPU %': Math.round(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100),
    });
  } finally {
    await stopServer(child);
  }
}

console.log(`Node ${process.version}, NODE_ENV=${nodeEnv}, ${connections} connections, ${seconds} s per scenario`);
console.table(rows);
