/**
 * A local OIDC issuer for tests: keys generated with jose, a discovery document and a JWKS served
 * on loopback, tokens minted with any claims, key rotation, and the forged tokens an attacker
 * would try (alg none, HS256 signed with the public key, a tampered payload).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSign, KeyObject } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { WardenError } from '../../src/errors.js';

/** The WARDEN_UNAUTHENTICATED error a verification rejects with (fails the test if it resolves). */
export async function unauthenticated(p: Promise<unknown>): Promise<WardenError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WardenError, `a WardenError, got ${String(e)}`);
    assert.equal(e.code, 'WARDEN_UNAUTHENTICATED');
    return e;
  }
  assert.fail('the token was accepted');
}

/** Options for one minted token. */
export interface MintOptions {
  /** Seconds from now; negative for an expired token (default 300). */
  expiresIn?: number;
  /** Seconds from now for nbf (omitted by default). */
  notBefore?: number;
  kid?: string;
  /** Sign with this key instead of the current one (e.g. a retired key). */
  key?: IssuerKey;
  omit?: (keyof JWTPayload)[];
  /** The JOSE header `typ` (default `JWT`); null leaves it out. */
  typ?: string | null;
}

/** A signing key of the issuer. */
export interface IssuerKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

/** A running issuer. */
export interface OidcIssuer {
  issuer: string;
  jwksUri: string;
  /** The audience tokens get by default. */
  audience: string;
  /** The key that signs new tokens. */
  current(): IssuerKey;
  mint(claims: JWTPayload, opts?: MintOptions): Promise<string>;
  /** Generate a new key; the JWKS then holds the new key (and the old one when keepOld). */
  rotate(opts?: { keepOld?: boolean }): Promise<IssuerKey>;
  /** A fresh key the JWKS does not publish (a forger's key). */
  foreignKey(): Promise<IssuerKey>;
  /** Forged tokens. */
  unsigned(claims: JWTPayload): string;
  hs256WithPublicKey(claims: JWTPayload): Promise<string>;
  tamper(token: string, patch: JWTPayload): string;
  /**
   * A token signed (RS256, the current key) over header and payload JSON texts exactly as given:
   * what jose's SignJWT cannot write (a member named twice, `1e400`). `{{kid}}`, `{{iss}}`, `{{aud}}`,
   * `{{iat}}` and `{{exp}}` (now + 300 s) are filled in.
   */
  signRaw(header: string, payload: string): string;
  /** How many times the JWKS and the discovery document were fetched. */
  hits(): { jwks: number; discovery: number };
  stop(): Promise<void>;
}

async function newKey(alg: string, n: number): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: `key-${n}-${alg.toLowerCase()}`, alg, use: 'sig' };
  return { kid: publicJwk.kid, alg, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Start an issuer on a random loopback port. */
export async function startOidcIssuer(opts: { alg?: string; audience?: string } = {}): Promise<OidcIssuer> {
  const alg = opts.alg ?? 'RS256';
  let n = 0;
  let keys: IssuerKey[] = [await newKey(alg, ++n)];
  const hits = { jwks: 0, discovery: 0 };
  let base = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      hits.discovery++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        issuer: base,
        jwks_uri: `${base}/jwks`,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [alg],
      }));
    } else if (req.url === '/jwks') {
      hits.jwks++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audience = opts.audience ?? 'https://warden.test/mcp';
  const payloadFor = (claims: JWTPayload, o: MintOptions = {}): JWTPayload => {
    const now = Math.floor(Date.now() / 1000);
    const p: JWTPayload = { iss: base, aud: audience, iat: now, exp: now + (o.expiresIn ?? 300), ...(o.notBefore !== undefined ? { nbf: now + o.notBefore } : {}), ...claims };
    for (const k of o.omit ?? []) delete p[k];
    return p;
  };

  return {
    issuer: base,
    jwksUri: `${base}/jwks`,
    audience,
    current: () => keys[keys.length - 1]!,
    async mint(claims, o = {}) {
      const key = o.key ?? keys[keys.length - 1]!;
      const typ = o.typ === undefined ? 'JWT' : o.typ;
      return new SignJWT(payloadFor(claims, o)).setProtectedHeader({ alg: key.alg, kid: o.kid ?? key.kid, ...(typ === null ? {} : { typ }) }).sign(key.privateKey);
    },
    async rotate(o = {}) {
      const k = await newKey(alg, ++n);
      keys = o.keepOld ? [...keys, k] : [k];
      return k;
    },
    foreignKey: () => newKey(alg, 1000 + ++n),
    unsigned(claims) {
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payloadFor(claims))}.`;
    },
    async hs256WithPublicKey(claims) {
      const key = keys[keys.length - 1]!;
      return new SignJWT(payloadFor(claims)).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' }).sign(new TextEncoder().encode(key.publicPem));
    },
    tamper(token, patch) {
      const [h, p, s] = token.split('.');
      const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as JWTPayload;
      return `${h}.${b64({ ...payload, ...patch })}.${s}`;
    },
    signRaw(header, payload) {
      const key = keys[keys.length - 1]!;
      assert.equal(key.alg, 'RS256', 'signRaw signs with an RS256 issuer key');
      const now = Math.floor(Date.now() / 1000);
      const fill = (t: string) => t.replaceAll('{{kid}}', key.kid).replaceAll('{{iss}}', base).replaceAll('{{aud}}', audience).replaceAll('{{iat}}', String(now)).replaceAll('{{exp}}', String(now + 300));
      const input = `${Buffer.from(fill(header)).toString('base64url')}.${Buffer.from(fill(payload)).toString('base64url')}`;
      return `${input}.${createSign('RSA-SHA256').update(input).sign(KeyObject.from(key.privateKey)).toString('base64url')}`;
    },
    hits: () => ({ ...hits }),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
