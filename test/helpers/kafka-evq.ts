import { loadConfig } from '../../src/config.ts';
import { KafkaEngine } from '../../src/engines/kafka/kafka-engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { EvqServer } from '../../src/server.ts';
import { adminToken, masterKey } from './evq.ts';
import { kafkaBrokers } from './kafka.ts';

/**
 * Starts an in-process evq server on the Kafka engine of the test broker, on a free loopback
 * port, with the test admin token and master key, so several instances share one `topicPrefix`.
 * The caller closes it.
 */
export async function startKafkaEvq(topicPrefix: string, instanceId: string, env: Record<string, string> = {}): Promise<EvqServer> {
  const config = loadConfig({
    EVQ_PORT: '0',
    EVQ_ENGINE: 'kafka',
    EVQ_KAFKA_BROKERS: kafkaBrokers.join(','),
    EVQ_KAFKA_TOPIC_PREFIX: topicPrefix,
    EVQ_LOG_LEVEL: 'silent',
    EVQ_SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
  });
  const logger = silentLogger();
  const engine = new KafkaEngine({ brokers: kafkaBrokers, logger, topicPrefix, instanceId });
  const server = new EvqServer({ config, engine, adminToken, masterKey, logger });
  await server.start();
  return server;
}

/** Sends a GraphQL operation over HTTP to `server` with `token` (the admin token by default). */
export async function gqlAt(server: EvqServer, query: string, variables: Record<string, unknown> = {}, token = adminToken) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}
