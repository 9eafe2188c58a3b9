import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export const issuer = 'https://idp.test.invalid';
export const audience = 'evq-test';

export interface TokenOptions {
  /** Claims added to (or, when undefined, removed from) the defaults. */
  claims?: Record<string, unknown>;
  /** Key id in the header; `rsa` keys default to `rsa-1`, `ed25519` to `ed-1`. */
  kid?: string;
  key?: 'rsa' | 'ed25519' | 'unlisted-rsa';
  /** Expiry in seconds from now; default 300. */
  expiresIn?: number;
}

/**
 * A stand-in for an application's identity provider: RSA and Ed25519 signing keys, a JWKS served
 * over HTTP on loopback, and a way to sign user tokens. `unlisted-rsa` is a key that the JWKS
 * does not contain.
 */
export interface IdentityProvider {
  jwksUrl: string;
  /** PEM of the RSA public key, as an attacker could get it from the JWKS. */
  rsaPublicKeyPem: string;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  sign(subject: string, options?: TokenOptions): Promise<string>;
  /** Env variables that make evq accept this provider's tokens. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startIdentityProvider(): Promise<IdentityProvider> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const unlisted = await generateKeyPair('RS256');
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ed.publicKey)), kid: 'ed-1', alg: 'EdDSA', use: 'sig' },
    ],
  };
  let fetches = 0;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    fetches++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;

  const keys: Record<NonNullable<TokenOptions['key']>, { key: CryptoKey; alg: string; kid: string }> = {
    rsa: { key: rsa.privateKey, alg: 'RS256', kid: 'rsa-1' },
    ed25519: { key: ed.privateKey, alg: 'EdDSA', kid: 'ed-1' },
    'unlisted-rsa': { key: unlisted.privateKey, alg: 'RS256', kid: 'rsa-unlisted' },
  };

  return {
    jwksUrl,
    rsaPublicKeyPem: await exportSPKI(rsa.publicKey),
    jwksFetches: () => fetches,
    async sign(subject, options = {}) {
      const { key, alg, kid } = keys[options.key ?? 'rsa'];
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iss: issuer, aud: audience, sub: subject, iat: now, exp: now + (options.expiresIn ?? 300) };
      for (const [name, value] of Object.entries(options.claims ?? {})) {
        if (value === undefined) delete payload[name];
        else payload[name] = value;
      }
      return new SignJWT(payload).setProtectedHeader({ alg, kid: options.kid ?? kid, typ: 'JWT' }).sign(key);
    },
    env: () => ({
      EVQ_AUTH_JWKS_URL: jwksUrl,
      EVQ_AUTH_ISSUER: issuer,
      EVQ_AUTH_AUDIENCE: audience,
      EVQ_AUTH_ALGORITHMS: 'RS256,EdDSA',
      EVQ_AUTH_CLOCK_TOLERANCE_SECONDS: '0',
    }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
