import { z } from 'zod';

/** Limits that the service enforces on every request; each violation has its own error code. */
export interface Limits {
  /** Max serialized size of one message's `data`, in bytes. */
  maxPayloadBytes: number;
  /** Max messages in one `publishBatch`. */
  maxBatchSize: number;
  /** Max messages that one `poll` or `deadLetters` call returns. */
  maxPollLimit: number;
  /** Max deliveries that one `receive` call returns. */
  maxReceiveLimit: number;
  /** Max long-poll wait of `poll` and `receive`, in seconds. */
  maxWaitSeconds: number;
  /** Visibility timeout bounds, in seconds. */
  minVisibilitySeconds: number;
  maxVisibilitySeconds: number;
  /** Max subscriptions open at once on one WebSocket. */
  maxSubscriptionsPerSocket: number;
  /** Max `maxInFlight` of one `deliveries` subscription. */
  maxInFlight: number;
  /** GraphQL document limits. */
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  /** Max size of an HTTP request body, in bytes. */
  maxRequestBytes: number;
  /** How long a repeated message id is recognized as a duplicate, in seconds. */
  dedupWindowSeconds: number;
}

export interface Config {
  host: string;
  port: number;
  engine: 'sqlite' | 'kafka';
  dataDir: string;
  kafkaBrokers: string[];
  /** Prefix of every Kafka topic and consumer group that the Kafka engine creates. */
  kafkaTopicPrefix: string;
  /** Bootstrap admin token; generated and stored in `dataDir` in dev mode when absent. */
  adminToken: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** SQLite `synchronous` mode: `normal` survives a process crash, `full` also a power loss. */
  sqliteSync: 'normal' | 'full';
  /** True unless NODE_ENV is `production`. */
  devMode: boolean;
  /** How long a graceful shutdown waits for in-flight requests before closing them, in milliseconds. */
  shutdownTimeoutMs: number;
  limits: Limits;
}

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  EVQ_HOST: z.string().min(1).default('127.0.0.1'),
  EVQ_PORT: integer(0, 65_535).default(8080),
  EVQ_ENGINE: z.enum(['sqlite', 'kafka']).default('sqlite'),
  EVQ_DATA_DIR: z.string().min(1).default('./data'),
  EVQ_KAFKA_BROKERS: z.string().optional(),
  EVQ_KAFKA_TOPIC_PREFIX: z
    .string()
    .max(100, 'must be at most 100 characters')
    .regex(/^[A-Za-z0-9._-]+$/, "must be 1 or more of the Kafka topic characters A-Z, a-z, 0-9, '.', '_' and '-'")
    .default('evq.'),
  EVQ_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  EVQ_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EVQ_SQLITE_SYNC: z.enum(['normal', 'full']).default('normal'),
  EVQ_SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(10_000),
  EVQ_MAX_PAYLOAD_BYTES: integer(1, 64 * 1024 * 1024).default(1024 * 1024),
  EVQ_MAX_BATCH_SIZE: integer(1, 100_000).default(1000),
  EVQ_MAX_WAIT_SECONDS: integer(0, 300).default(20),
  EVQ_MAX_SUBSCRIPTIONS_PER_SOCKET: integer(1, 100_000).default(100),
  EVQ_MAX_DEPTH: integer(1, 1000).default(10),
  EVQ_MAX_ALIASES: integer(0, 10_000).default(15),
  EVQ_MAX_TOKENS: integer(10, 1_000_000).default(2000),
  EVQ_MAX_REQUEST_BYTES: integer(1024, 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  EVQ_DEDUP_WINDOW_SECONDS: integer(0, 7 * 24 * 3600).default(600),
  NODE_ENV: z.string().optional(),
});

/** Error for an invalid setting in the environment. The message names each invalid variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the typed configuration from `EVQ_*` variables. Throws ConfigError that names every
 * invalid variable and its value.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = name === 'EVQ_ADMIN_TOKEN' ? '(hidden)' : JSON.stringify(env[name]);
      return `${name}=${value}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const vars = parsed.data;
  const kafkaBrokers = (vars.EVQ_KAFKA_BROKERS ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  if (vars.EVQ_ENGINE === 'kafka' && kafkaBrokers.length === 0) {
    throw new ConfigError('Invalid configuration: EVQ_ENGINE=kafka needs EVQ_KAFKA_BROKERS (host:port,...).');
  }

  return {
    host: vars.EVQ_HOST,
    port: vars.EVQ_PORT,
    engine: vars.EVQ_ENGINE,
    dataDir: vars.EVQ_DATA_DIR,
    kafkaBrokers,
    kafkaTopicPrefix: vars.EVQ_KAFKA_TOPIC_PREFIX,
    adminToken: vars.EVQ_ADMIN_TOKEN ?? null,
    logLevel: vars.EVQ_LOG_LEVEL,
    sqliteSync: vars.EVQ_SQLITE_SYNC,
    devMode: vars.NODE_ENV !== 'production',
    shutdownTimeoutMs: vars.EVQ_SHUTDOWN_TIMEOUT_MS,
    limits: {
      maxPayloadBytes: vars.EVQ_MAX_PAYLOAD_BYTES,
      maxBatchSize: vars.EVQ_MAX_BATCH_SIZE,
      maxPollLimit: 1000,
      maxReceiveLimit: 100,
      maxWaitSeconds: vars.EVQ_MAX_WAIT_SECONDS,
      minVisibilitySeconds: 1,
      maxVisibilitySeconds: 12 * 3600,
      maxSubscriptionsPerSocket: vars.EVQ_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxInFlight: 1000,
      maxDepth: vars.EVQ_MAX_DEPTH,
      maxAliases: vars.EVQ_MAX_ALIASES,
      maxTokens: vars.EVQ_MAX_TOKENS,
      maxRequestBytes: vars.EVQ_MAX_REQUEST_BYTES,
      dedupWindowSeconds: vars.EVQ_DEDUP_WINDOW_SECONDS,
    },
  };
}
