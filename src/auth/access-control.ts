import type { AuthConfig } from '../config.ts';
import type { SharedRecords } from '../engines/engine.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { AccessStore } from './access-store.ts';
import { AuditLog } from './audit.ts';
import { Authenticator, type CredentialSource } from './authenticator.ts';
import { type AccessRequest, authorize } from './grants.ts';
import type { Principal } from './principal.ts';
import { SecretBox } from '../signing/secret-box.ts';
import { RateLimiter } from './rate-limiter.ts';
import { ServiceTokens, UserTokenVerifier } from './tokens.ts';

export interface AccessControlOptions {
  records: SharedRecords;
  adminToken: string;
  masterKey: Buffer;
  config: AuthConfig;
  logger: Logger;
  metrics: Metrics;
}

/**
 * The one place where evq decides who a caller is and what it may do. GraphQL fields declare their
 * requirement on the schema and REST routes in their route table; both end in `authorize`.
 */
export class AccessControl {
  readonly store: AccessStore;
  readonly audit: AuditLog;
  readonly serviceTokens: ServiceTokens;
  /** Seals the secrets that evq must read back; shared with the message signing code. */
  readonly secretBox: SecretBox;
  readonly keyRotationGraceSeconds: number;
  readonly #authenticator: Authenticator;
  readonly #publishLimiter: RateLimiter;

  constructor(options: AccessControlOptions) {
    const { config, logger, metrics } = options;
    this.audit = new AuditLog(logger, metrics);
    this.secretBox = new SecretBox(options.masterKey);
    this.store = new AccessStore(options.records, this.audit, this.secretBox);
    this.serviceTokens = new ServiceTokens(options.masterKey);
    this.keyRotationGraceSeconds = config.keyRotationGraceSeconds;
    this.#authenticator = new Authenticator({
      adminToken: options.adminToken,
      store: this.store,
      serviceTokens: this.serviceTokens,
      userTokens: config.userTokens === null ? null : new UserTokenVerifier(config.userTokens, logger),
      audit: this.audit,
    });
    this.#publishLimiter = new RateLimiter(config.publishRatePerSecond, config.publishBurst);
    const userTokens = config.userTokens;
    logger.child({ component: 'auth' }).info(
      userTokens === null
        ? { userTokens: false }
        : {
            userTokens: true,
            issuer: userTokens.issuer,
            audience: userTokens.audience,
            algorithms: userTokens.algorithms,
            keySource: [userTokens.jwksUrl && 'jwks', userTokens.publicKey && 'public key', userTokens.secret && 'secret'].filter(Boolean),
            jwksUrl: userTokens.jwksUrl,
          },
      userTokens === null ? 'user tokens are not accepted (no EVQ_AUTH_* key source)' : 'user tokens are accepted',
    );
  }

  /** See Authenticator.authenticate. */
  authenticate(authorization: unknown, source: CredentialSource): Promise<Principal> {
    return this.#authenticator.authenticate(authorization, source);
  }

  /** Throws FORBIDDEN unless the principal may make the request. */
  authorize(principal: Principal, request: AccessRequest): void {
    authorize(principal, request);
  }

  /**
   * Takes `messageCount` messages from the principal's publish rate limit, or throws RATE_LIMITED.
   * The admin has no limit. Called once per publish operation, after its permission check.
   */
  takePublishQuota(principal: Principal, messageCount: number): void {
    if (principal.kind !== 'admin') this.#publishLimiter.take(principal.id, messageCount);
  }

  close(): void {
    this.store.close();
  }
}
