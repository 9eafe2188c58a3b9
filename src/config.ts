import { createPublicKey } from 'node:crypto';
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
  /** Max estimated cost of a GraphQL operation (graphql-armor cost limit: each field and level adds). */
  maxCost: number;
  /** Max size of an HTTP request body, in bytes. */
  maxRequestBytes: number;
  /** How long a repeated message id is recognized as a duplicate, in seconds. */
  dedupWindowSeconds: number;
}

/** Signing algorithms that evq accepts for user tokens. */
export const userTokenAlgorithms = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
export type UserTokenAlgorithm = (typeof userTokenAlgorithms)[number];

/** Settings that verify user tokens, the JWTs from the application's identity provider; see loadConfig. */
export interface UserTokenConfig {
  /** Shared secret for the HS* algorithms. */
  secret: string | null;
  /** PEM (SPKI) public key for the asymmetric algorithms. */
  publicKey: string | null;
  /** URL of the identity provider's JSON Web Key Set. */
  jwksUrl: string | null;
  /** Required `iss` claim. */
  issuer: string;
  /** Required `aud` claim. */
  audience: string;
  /** Accepted `alg` header values; a token signed with another algorithm is rejected. */
  algorithms: UserTokenAlgorithm[];
  /** Allowed clock difference when checking `exp` and `nbf`, in seconds. */
  clockToleranceSeconds: number;
}

export interface AuthConfig {
  /** Null when no key source is configured, so user tokens are rejected. */
  userTokens: UserTokenConfig | null;
  /** 32-byte key that derives the service-token signing key; generated in dev mode when absent. */
  masterKey: Buffer | null;
  /** Messages per second that one principal other than the admin may publish; 0 turns the limit off. */
  publishRatePerSecond: number;
  /** Messages that one principal may publish at once before the rate applies. */
  publishBurst: number;
  /** How long the previous secret of a rotated queue key keeps working by default, in seconds. */
  keyRotationGraceSeconds: number;
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
  /** How far a producer signature's timestamp may be from evq's clock, in seconds. */
  signatureMaxSkewSeconds: number;
  limits: Limits;
  auth: AuthConfig;
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
  EVQ_MAX_COST: integer(1, 10_000_000).default(5000),
  EVQ_MAX_REQUEST_BYTES: integer(1024, 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  EVQ_DEDUP_WINDOW_SECONDS: integer(0, 7 * 24 * 3600).default(600),
  EVQ_MASTER_KEY: z
    .string()
    .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)')
    .optional(),
  EVQ_AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  EVQ_AUTH_PUBLIC_KEY: z
    .string()
    .transform((value) => value.replaceAll('\\n', '\n'))
    .refine(isPublicKeyPem, 'must be a PEM public key (-----BEGIN PUBLIC KEY-----) that Node.js can read')
    .optional(),
  EVQ_AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  EVQ_AUTH_ISSUER: z.string().min(1).optional(),
  EVQ_AUTH_AUDIENCE: z.string().min(1).optional(),
  EVQ_AUTH_ALGORITHMS: z
    .string()
    .default('HS256')
    .transform((value) => value.split(',').map((name) => name.trim()).filter((name) => name.length > 0))
    .pipe(z.array(z.enum(userTokenAlgorithms)).min(1)),
  EVQ_AUTH_CLOCK_TOLERANCE_SECONDS: integer(0, 300).default(30),
  EVQ_PUBLISH_RATE_LIMIT: integer(0, 10_000_000).default(5000),
  EVQ_PUBLISH_BURST: integer(1, 10_000_000).optional(),
  EVQ_SIGNATURE_MAX_SKEW_SECONDS: integer(1, 3600).default(300),
  EVQ_KEY_ROTATION_GRACE_SECONDS: integer(0, 30 * 24 * 3600).default(3600),
  NODE_ENV: z.string().optional(),
});

function isPublicKeyPem(value: string): boolean {
  if (!value.includes('-----BEGIN PUBLIC KEY-----')) return false;
  try {
    createPublicKey(value);
    return true;
  } catch {
    return false;
  }
}

/** Variables whose values are never shown in an error message. */
const secretVariables = new Set(['EVQ_ADMIN_TOKEN', 'EVQ_MASTER_KEY', 'EVQ_AUTH_JWT_SECRET']);

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
      const value = secretVariables.has(name) ? '(hidden)' : JSON.stringify(env[name]);
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
    signatureMaxSkewSeconds: vars.EVQ_SIGNATURE_MAX_SKEW_SECONDS,
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
      maxCost: vars.EVQ_MAX_COST,
      maxRequestBytes: vars.EVQ_MAX_REQUEST_BYTES,
      dedupWindowSeconds: vars.EVQ_DEDUP_WINDOW_SECONDS,
    },
    auth: {
      userTokens: userTokenConfig(vars),
      masterKey: vars.EVQ_MASTER_KEY === undefined ? null : Buffer.from(vars.EVQ_MASTER_KEY, 'base64'),
      publishRatePerSecond: vars.EVQ_PUBLISH_RATE_LIMIT,
      publishBurst: vars.EVQ_PUBLISH_BURST ?? Math.max(vars.EVQ_PUBLISH_RATE_LIMIT, vars.EVQ_MAX_BATCH_SIZE),
      keyRotationGraceSeconds: vars.EVQ_KEY_ROTATION_GRACE_SECONDS,
    },
  };
}

/**
 * Returns the user-token settings, or null when no key source is set. Throws ConfigError when the
 * issuer or audience is missing, because without them a token that the same identity provider
 * issued for another application would be accepted, and when an algorithm has no key source.
 */
function userTokenConfig(vars: z.infer<typeof envSchema>): UserTokenConfig | null {
  const secret = vars.EVQ_AUTH_JWT_SECRET ?? null;
  const publicKey = vars.EVQ_AUTH_PUBLIC_KEY ?? null;
  const jwksUrl = vars.EVQ_AUTH_JWKS_URL ?? null;
  if (secret === null && publicKey === null && jwksUrl === null) return null;
  if (vars.EVQ_AUTH_ISSUER === undefined || vars.EVQ_AUTH_AUDIENCE === undefined) {
    throw new ConfigError(
      'Invalid configuration: user tokens need EVQ_AUTH_ISSUER and EVQ_AUTH_AUDIENCE, the iss and aud claims that your identity provider sets.',
    );
  }
  const algorithms = vars.EVQ_AUTH_ALGORITHMS;
  const symmetric = algorithms.filter((algorithm) => algorithm.startsWith('HS'));
  const asymmetric = algorithms.filter((algorithm) => !algorithm.startsWith('HS'));
  if (symmetric.length > 0 && secret === null) {
    throw new ConfigError(`Invalid configuration: EVQ_AUTH_ALGORITHMS=${symmetric.join(',')} needs EVQ_AUTH_JWT_SECRET.`);
  }
  if (asymmetric.length > 0 && publicKey === null && jwksUrl === null) {
    throw new ConfigError(
      `Invalid configuration: EVQ_AUTH_ALGORITHMS=${asymmetric.join(',')} needs EVQ_AUTH_PUBLIC_KEY or EVQ_AUTH_JWKS_URL.`,
    );
  }
  return {
    secret,
    publicKey,
    jwksUrl,
    issuer: vars.EVQ_AUTH_ISSUER,
    audience: vars.EVQ_AUTH_AUDIENCE,
    algorithms,
    clockToleranceSeconds: vars.EVQ_AUTH_CLOCK_TOLERANCE_SECONDS,
  };
}
