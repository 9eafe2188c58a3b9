// Publishes one message to a running evq server over REST and prints the result, like:
//   curl -X POST http://127.0.0.1:8080/queue/publish -H "authorization: Bearer $TOKEN" \
//        -H 'content-type: application/json' -d '{"queue":"example","data":{"hello":"world"}}'
// Usage: npm run example:publish -- [queue] [json-data]
import { connect, ensureQueue, runExample } from './connect.ts';

const queue = process.argv[2] ?? 'example';
const data: unknown = process.argv[3] ? JSON.parse(process.argv[3]) : { hello: 'world', at: new Date().toISOString() };

await runExample(async () => {
  const { url, token } = await connect();
  await ensureQueue(url, token, queue);
  const response = await fetch(`${url}/queue/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ queue, data }),
  });
  console.log(`HTTP ${response.status}`);
  console.log(JSON.stringify(await response.json(), null, 2));
  if (!response.ok) process.exitCode = 1;
});
