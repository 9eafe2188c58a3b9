#!/usr/bin/env node
import { mkdir } from 'node:fs/promises';
import { loadAdminToken, loadMasterKey } from './auth/bootstrap-secrets.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createEngine } from './engines/create-engine.ts';
import { printEvqSchema } from './graphql/schema.ts';
import { createLogger } from './observability/logger.ts';
import { EvqServer } from './server.ts';

const usage = `Usage: evq [command]

Commands:
  serve          Start the evq server (the default). Settings come from EVQ_* variables.
  print-schema   Print the GraphQL schema (SDL) to standard output.
  help           Show this text.`;

async function serve(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  // A promise rejected without a handler is a bug. Node's default ends the process, which would
  // end it for every client because of one request, so it is logged instead.
  process.on('unhandledRejection', (reason: unknown) => logger.error({ err: reason }, 'unhandled promise rejection'));
  if (config.engine === 'sqlite') await mkdir(config.dataDir, { recursive: true });
  const admin = await loadAdminToken(config);
  if (admin.generated) {
    // Shown once, on the first start in dev mode; later starts read it from the data folder.
    process.stderr.write(
      `\nevq generated an admin token and stored it in ${config.dataDir}/admin-token:\n\n    ${admin.token}\n\n` +
        'Send it as "Authorization: Bearer <token>". It is not shown again.\n\n',
    );
  }

  const masterKey = await loadMasterKey(config);
  const engine = await createEngine(config, logger);
  const server = new EvqServer({ config, engine, adminToken: admin.token, masterKey, logger });
  await server.start();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutdown requested');
    server.close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'serve';
  switch (command) {
    case 'serve':
      await serve();
      return;
    case 'print-schema':
      process.stdout.write(printEvqSchema());
      return;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${usage}\n`);
      return;
    default:
      process.stderr.write(`evq: unknown command ${JSON.stringify(command)}\n\n${usage}\n`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error);
  process.stderr.write(`evq: ${message}\n`);
  process.exitCode = 1;
});
