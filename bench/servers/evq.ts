// evq on the embedded engine in a temporary folder, for the HTTP benchmarks.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMasterKey } from '../../src/auth/bootstrap-secrets.ts';
import { loadConfig } from '../../src/config.ts';
import { createEngine } from '../../src/engines/create-engine.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { EvqServer } from '../../src/server.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'evq-bench-'));
const config = loadConfig({
  EVQ_MASTER_KEY: randomBytes(32).toString('base64'),
  ...process.env,
  EVQ_PORT: '0',
  EVQ_DATA_DIR: dataDir,
  EVQ_LOG_LEVEL: 'warn',
});
const logger = createLogger({ level: 'warn' });
const engine = await createEngine(config, logger);
const masterKey = await loadMasterKey(config);
const server = new EvqServer({ config, engine, adminToken: process.env.EVQ_ADMIN_TOKEN!, masterKey, logger });
await server.start();
process.send?.({ port: Number(new URL(server.url).port) });
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
process.on('message', (message) => {
  if (message === 'rss') process.send?.({ rss: process.memoryUsage().rss });
});
