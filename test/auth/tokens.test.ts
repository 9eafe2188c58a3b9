import { decodeJwt, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ServiceTokens, TokenRejected, UserTokenVerifier, serviceTokenIssuer } from '../../src/auth/tokens.ts';
import { ConfigError, loadConfig, type UserTokenConfig } from '../../src/config.ts';
import { EvqError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { audience, issuer, startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.ts';

const secret = 'hs256-test-secret-0123456789abcdef';

/** Returns the user-token settings that loadConfig reads from `env`, failing when there are none. */
function userTokenConfig(env: Record<string, string>): UserTokenConfig {
  const config = loadConfig({ EVQ_AUTH_ISSUER: issuer, EVQ_AUTH_AUDIENCE: audience, ...env }).auth.userTokens;
  if (config === null) throw new Error('loadConfig returned no user-token settings');
  return config;
}

function verifierFor(env: Record<string, string>): UserTokenVerifier {
  return new UserTokenVerifier(userTokenConfig(env), silentLogger());
}

/** Signs a token with the identity provider's issuer and audience, valid for five minutes. */
async function signed(key: Parameters<SignJWT['sign']>[0], alg: string, claims: JWTPayload = {}, kid?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: issuer, aud: audience, sub: 'alice', iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg, typ: 'JWT', ...(kid === undefined ? {} : { kid }) })
    .sign(key);
}

/** Returns the rejection of `promise`, failing the test when it resolves or rejects with another error. */
async function rejection(promise: Promise<unknown>): Promise<TokenRejected> {
  const error = await promise.then(
    () => new Error('expected the token to be rejected, but it was accepted'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TokenRejected);
  return error as TokenRejected;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('UserTokenVerifier with HS256', () => {
  const verifier = () => verifierFor({ EVQ_AUTH_JWT_SECRET: secret });

  it('accepts a token signed with the secret', async () => {
    const token = await signed(new TextEncoder().encode(secret), 'HS256', { tenant: 'acme' });
    const claims = await verifier().verify(token);
    expect(claims).toMatchObject({ sub: 'alice', iss: issuer, aud: audience, tenant: 'acme' });
  });

  it('rejects a token signed with another secret', async () => {
    const token = await signed(new TextEncoder().encode(`${secret}-other`), 'HS256');
    const error = await rejection(verifier().verify(token));
    expect(error.message).toBe('signature verification failed');
    expect(error.expired).toBe(false);
  });

  it('rejects an RS256 token', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const error = await rejection(verifier().verify(await signed(privateKey, 'RS256')));
    expect(error.message).toBe("the token's algorithm is not allowed; accepted: HS256");
  });

  it('rejects an expired token as expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signed(new TextEncoder().encode(secret), 'HS256', { exp: now - 31 });
    const error = await rejection(verifier().verify(token));
    expect(error.message).toMatch(/^the token expired \(exp \d+\)$/);
    expect(error.expired).toBe(true);
  });

  it('accepts exp within the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signed(new TextEncoder().encode(secret), 'HS256', { exp: now - 20 });
    await expect(verifier().verify(token)).resolves.toMatchObject({ sub: 'alice' });
  });

  it('rejects a token without sub', async () => {
    const token = await signed(new TextEncoder().encode(secret), 'HS256', { sub: undefined });
    const error = await rejection(verifier().verify(token));
    expect(error.message).toContain("the token's sub claim is invalid");
  });
});

describe.each([
  ['RS256', () => generateKeyPair('RS256', { extractable: true })],
  ['ES256', () => generateKeyPair('ES256', { extractable: true })],
])('UserTokenVerifier with %s from a PEM key', (algorithm, generate) => {
  let keys: Awaited<ReturnType<typeof generate>>;
  let verifier: UserTokenVerifier;

  beforeAll(async () => {
    keys = await generate();
    verifier = verifierFor({ EVQ_AUTH_PUBLIC_KEY: await exportSPKI(keys.publicKey), EVQ_AUTH_ALGORITHMS: algorithm });
  });

  it('accepts a token signed with the private key', async () => {
    const claims = await verifier.verify(await signed(keys.privateKey, algorithm));
    expect(claims).toMatchObject({ sub: 'alice', iss: issuer, aud: audience });
  });

  it('accepts a token with a kid, as no JWKS is set', async () => {
    await expect(verifier.verify(await signed(keys.privateKey, algorithm, {}, 'key-2024'))).resolves.toMatchObject({ sub: 'alice' });
  });

  it('rejects a token signed with another key', async () => {
    const other = await generateKeyPair(algorithm);
    const error = await rejection(verifier.verify(await signed(other.privateKey, algorithm)));
    expect(error.message).toBe('signature verification failed');
  });

  it('rejects HS256 signed with the PEM', async () => {
    const pem = await exportSPKI(keys.publicKey);
    const error = await rejection(verifier.verify(await signed(new TextEncoder().encode(pem), 'HS256')));
    expect(error.message).toBe(`the token's algorithm is not allowed; accepted: ${algorithm}`);
  });
});

describe('UserTokenVerifier with a PEM key from one env line', () => {
  it('reads \\n escapes as line breaks', async () => {
    const keys = await generateKeyPair('RS256', { extractable: true });
    const oneLine = (await exportSPKI(keys.publicKey)).replaceAll('\n', '\\n');
    const verifier = verifierFor({ EVQ_AUTH_PUBLIC_KEY: oneLine, EVQ_AUTH_ALGORITHMS: 'RS256' });
    await expect(verifier.verify(await signed(keys.privateKey, 'RS256'))).resolves.toMatchObject({ sub: 'alice' });
  });
});

describe('UserTokenVerifier with EdDSA from a JWKS', () => {
  let idp: IdentityProvider;

  beforeAll(async () => {
    idp = await startIdentityProvider();
  });

  afterAll(async () => {
    await idp?.close();
  });

  it('accepts a token that a JWKS key signed', async () => {
    const verifier = verifierFor(idp.env());
    const claims = await verifier.verify(await idp.sign('alice', { key: 'ed25519' }));
    expect(claims).toMatchObject({ sub: 'alice', iss: issuer, aud: audience });
  });

  it('rejects a token with a JWKS kid but another key', async () => {
    const verifier = verifierFor(idp.env());
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const error = await rejection(verifier.verify(await signed(other.privateKey, 'EdDSA', {}, 'ed-1')));
    expect(error.message).toBe('signature verification failed');
  });

  it('rejects a token whose alg does not match the kid', async () => {
    const verifier = verifierFor(idp.env());
    const rsa = await generateKeyPair('RS256');
    const error = await rejection(verifier.verify(await signed(rsa.privateKey, 'RS256', {}, 'ed-1')));
    expect(error.message).toBe("no key in the JWKS matches the token's kid");
  });

  it('refetches the JWKS at most every 30 s', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const verifier = verifierFor(idp.env());
    const fetchesBefore = idp.jwksFetches();
    const fetches = () => idp.jwksFetches() - fetchesBefore;

    await verifier.verify(await idp.sign('alice'));
    expect(fetches()).toBe(1);

    const unknownKid = await idp.sign('alice', { key: 'unlisted-rsa' });
    for (let i = 0; i < 5; i++) {
      expect((await rejection(verifier.verify(unknownKid))).message).toBe("no key in the JWKS matches the token's kid");
    }
    expect(fetches()).toBe(1);

    vi.setSystemTime(start + 29_000);
    await rejection(verifier.verify(unknownKid));
    expect(fetches()).toBe(1);

    vi.setSystemTime(start + 31_000);
    await Promise.all(Array.from({ length: 5 }, () => rejection(verifier.verify(unknownKid))));
    expect(fetches()).toBe(2);
    await rejection(verifier.verify(unknownKid));
    expect(fetches()).toBe(2);

    vi.setSystemTime(start + 62_000);
    await verifier.verify(await idp.sign('alice', { key: 'ed25519' }));
    expect(fetches()).toBe(2);
    await rejection(verifier.verify(unknownKid));
    expect(fetches()).toBe(3);
  });

  it('fetches once for a first unknown kid', async () => {
    const verifier = verifierFor(idp.env());
    const fetchesBefore = idp.jwksFetches();

    await rejection(verifier.verify(await idp.sign('alice', { key: 'unlisted-rsa' })));
    expect(idp.jwksFetches() - fetchesBefore).toBe(1);
  });
});

describe('user token settings', () => {
  it('are null without a key source', () => {
    expect(loadConfig({}).auth.userTokens).toBeNull();
  });

  it.each([
    ['a secret without issuer', { EVQ_AUTH_JWT_SECRET: secret, EVQ_AUTH_AUDIENCE: audience }],
    ['a secret without audience', { EVQ_AUTH_JWT_SECRET: secret, EVQ_AUTH_ISSUER: issuer }],
    ['a JWKS without either', { EVQ_AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks.json', EVQ_AUTH_ALGORITHMS: 'RS256' }],
  ])('reject %s', (_case, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(
      'Invalid configuration: user tokens need EVQ_AUTH_ISSUER and EVQ_AUTH_AUDIENCE, the iss and aud claims that your identity provider sets.',
    );
  });

  it('reject HS256 without a secret', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const env = { EVQ_AUTH_PUBLIC_KEY: await exportSPKI(publicKey), EVQ_AUTH_ISSUER: issuer, EVQ_AUTH_AUDIENCE: audience };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow('Invalid configuration: EVQ_AUTH_ALGORITHMS=HS256 needs EVQ_AUTH_JWT_SECRET.');
  });

  it('reject RS256 without a public key or JWKS', () => {
    const env = { EVQ_AUTH_JWT_SECRET: secret, EVQ_AUTH_ALGORITHMS: 'HS256,RS256', EVQ_AUTH_ISSUER: issuer, EVQ_AUTH_AUDIENCE: audience };
    expect(() => loadConfig(env)).toThrow('Invalid configuration: EVQ_AUTH_ALGORITHMS=RS256 needs EVQ_AUTH_PUBLIC_KEY or EVQ_AUTH_JWKS_URL.');
  });

  it('reject a short secret without showing it', () => {
    const env = { EVQ_AUTH_JWT_SECRET: 'short-secret', EVQ_AUTH_ISSUER: issuer, EVQ_AUTH_AUDIENCE: audience };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow('EVQ_AUTH_JWT_SECRET=(hidden): must be at least 32 characters');
    expect(() => loadConfig(env)).not.toThrow('short-secret');
  });

  it('reject an unknown algorithm', () => {
    const env = { EVQ_AUTH_JWT_SECRET: secret, EVQ_AUTH_ALGORITHMS: 'none', EVQ_AUTH_ISSUER: issuer, EVQ_AUTH_AUDIENCE: audience };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow('EVQ_AUTH_ALGORITHMS="none"');
  });

  it('reject a PEM key whose body is not a key', () => {
    const env = {
      EVQ_AUTH_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnot-a-key\n-----END PUBLIC KEY-----',
      EVQ_AUTH_ALGORITHMS: 'RS256',
      EVQ_AUTH_ISSUER: issuer,
      EVQ_AUTH_AUDIENCE: audience,
    };
    expect(() => new UserTokenVerifier(loadConfig(env).auth.userTokens!, silentLogger())).toThrow(ConfigError);
  });
});

describe('ServiceTokens', () => {
  const tokens = new ServiceTokens(Buffer.alloc(32, 7));

  it('issues a verifiable token', async () => {
    const before = Math.floor(Date.now() / 1000);
    const issued = await tokens.issue('account-1', 600);
    const claims = await tokens.verify(issued.token);

    expect(claims.sub).toBe('account-1');
    expect(claims.iss).toBe(serviceTokenIssuer);
    expect(claims.aud).toBe(serviceTokenIssuer);
    expect(claims.exp - claims.iat!).toBe(600);
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(issued.expiresAt.getTime()).toBe(claims.exp * 1000);
    expect(decodeJwt(issued.token).jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('verifies across instances sharing a master key', async () => {
    const issued = await new ServiceTokens(Buffer.alloc(32, 7)).issue('account-1', 60);
    await expect(tokens.verify(issued.token)).resolves.toMatchObject({ sub: 'account-1' });
  });

  it('rejects a token from another master key', async () => {
    const issued = await new ServiceTokens(Buffer.alloc(32, 8)).issue('account-1', 60);
    const error = await rejection(tokens.verify(issued.token));
    expect(error.message).toBe('the service token is invalid (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
    expect(error.expired).toBe(false);
  });

  it('rejects a tampered token', async () => {
    const issued = await tokens.issue('account-1', 60);
    const [header, payload, signature] = issued.token.split('.');
    const claims = { ...decodeJwt(issued.token), sub: 'account-2' };
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect(payload).not.toBe(tampered.split('.')[1]);

    const error = await rejection(tokens.verify(tampered));
    expect(error.message).toBe('the service token is invalid (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
  });

  it('rejects a user token signed with a guessed key', async () => {
    const forged = await signed(new TextEncoder().encode(secret), 'HS256', { iss: serviceTokenIssuer, aud: serviceTokenIssuer });
    const error = await rejection(tokens.verify(forged));
    expect(error.message).toBe('the service token is invalid (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
  });

  it('rejects expiry after the 5 s tolerance', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const issued = await tokens.issue('account-1', 60);

    vi.setSystemTime(start + 64_000);
    await expect(tokens.verify(issued.token)).resolves.toMatchObject({ sub: 'account-1' });

    vi.setSystemTime(start + 66_000);
    const error = await rejection(tokens.verify(issued.token));
    expect(error.message).toBe('the service token expired');
    expect(error.expired).toBe(true);
  });

  it.each([60, 3600, 86_400])('issues a token with ttlSeconds %i', async (ttlSeconds) => {
    const issued = await tokens.issue('account-1', ttlSeconds);
    const claims = decodeJwt(issued.token);
    expect(claims.exp! - claims.iat!).toBe(ttlSeconds);
  });

  it.each([59, 86_401, 0, -60, 60.5, Number.NaN])('rejects ttlSeconds %s with BAD_USER_INPUT', async (ttlSeconds) => {
    const error = await tokens.issue('account-1', ttlSeconds).then(
      () => new Error('expected issue to throw'),
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(EvqError);
    expect((error as EvqError).code).toBe('BAD_USER_INPUT');
    expect((error as EvqError).details).toEqual({ field: 'ttlSeconds', value: ttlSeconds, min: 60, max: 86_400 });
  });

  it('names the bounds in the ttlSeconds message', async () => {
    await expect(tokens.issue('account-1', 59)).rejects.toThrow('Invalid ttlSeconds: 59; expected an integer from 60 to 86400.');
  });
});
