/**
 * The verifier under attack: claims that try to reach the prototype of the principal's claims,
 * key sets fetched over plain http from a host that is not this machine, and a leeway so wide
 * that expired tokens live on, a discovery document redirected to plain http on another host.
 * Plus the forgeries jose must keep refusing (unknown `crit`, a key embedded in the header, key
 * URLs in `jku`/`x5u`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSign, KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { createOidcVerifier } from '../../src/identity/oidc.js';
import { verifyBearerToken } from '../../src/server/http-verifier.js';
import { whoMatches } from '../../src/policy/engine.js';
import { WardenError } from '../../src/errors.js';
import { startOidcIssuer, unauthenticated, type OidcIssuer } from '../support/oidc-issuer.js';

let iss: OidcIssuer;

before(async () => {
  iss = await startOidcIssuer();
});
after(() => iss?.stop());


test('a __proto__ claim cannot lend the principal claims it does not own', async () => {
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience });
  // JSON.parse keeps "__proto__" as an own key, as a token payload does.
  const token = await iss.mint(JSON.parse('{"sub":"ci-proto","groups":["ci"],"__proto__":{"repository":"acme/shop"}}') as Record<string, unknown>);
  const { principal } = await v.verify(token);
  assert.equal(Object.getPrototypeOf(principal.claims), Object.prototype, 'the claims object keeps its prototype');
  assert.equal(principal.claims.repository, undefined, 'no inherited repository claim');
  assert.equal(whoMatches({ who: { groups: ['ci'], claims: { repository: 'acme/shop' } } }, principal), false, 'a who.claims rule does not match');
});

test('a key set over plain http is refused unless it is on this machine', async () => {
  // Configured: an http issuer or jwks_uri on another host cannot start (an on-path attacker
  // would serve their own keys); loopback stays allowed (a local issuer, as in these tests).
  for (const o of [{ issuer: 'http://idp.example.com' }, { issuer: 'https://idp.example.com', jwks_uri: 'http://idp.example.com/jwks' }, { issuer: 'http://0.0.0.0:8443' }]) {
    assert.throws(() => createOidcVerifier({ audience: iss.audience, ...o }), (e: unknown) => e instanceof WardenError && e.code === 'WARDEN_CONFIG' && /https/.test(e.message), JSON.stringify(o));
  }
  assert.doesNotThrow(() => createOidcVerifier({ issuer: 'http://localhost:9000', audience: iss.audience, jwks_uri: 'http://[::1]:9000/jwks' }));

  // Discovered: a discovery document that points the key set at plain http on another host.
  // 0.0.0.0 reaches this machine's listeners, so without the check the keys would be fetched.
  const jwksPort = new URL(iss.jwksUri).port;
  let base = '';
  const disco: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ issuer: base, jwks_uri: `http://0.0.0.0:${jwksPort}/jwks` }));
  });
  await new Promise<void>((r) => disco.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(disco.address() as AddressInfo).port}`;
  try {
    const v = createOidcVerifier({ issuer: base, audience: iss.audience });
    const jwksBefore = iss.hits().jwks;
    const e = await unauthenticated(v.verify(await iss.mint({ sub: 'a', iss: base })));
    assert.equal(e.details.reason, 'issuer_unavailable');
    assert.equal(iss.hits().jwks, jwksBefore, 'the insecure key set was never fetched');
  } finally {
    disco.closeAllConnections();
    await new Promise<void>((r) => disco.close(() => r()));
  }
});

test('the exp/nbf leeway is bounded: a configured clock_tolerance over 5 minutes refuses to start', async () => {
  assert.throws(() => createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, clock_tolerance_ms: 3600_000 }), (e: unknown) => e instanceof WardenError && e.code === 'WARDEN_CONFIG' && /clock_tolerance/.test(e.message));
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, clock_tolerance_ms: 300_000 });
  assert.equal((await v.verify(await iss.mint({ sub: 'a' }, { expiresIn: -200 }))).principal.subject, 'a', '5 minutes is still allowed');
  assert.equal((await unauthenticated(v.verify(await iss.mint({ sub: 'a' }, { expiresIn: -400 })))).details.reason, 'expired');
});

test('forged headers stay refused: an unknown crit extension, a key embedded in the header', async () => {
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience });
  const k = iss.current();
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: iss.issuer, aud: iss.audience, sub: 'a', exp: now + 300 };
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', kid: k.kid, crit: ['x-warden-test'], 'x-warden-test': 1 })}.${b64(payload)}`;
  const crit = `${input}.${createSign('RSA-SHA256').update(input).sign(KeyObject.from(k.privateKey)).toString('base64url')}`;
  assert.equal((await unauthenticated(v.verify(crit))).details.reason, 'algorithm');
  const forger = await iss.foreignKey();
  const embedded = await new SignJWT(payload).setProtectedHeader({ alg: forger.alg, kid: k.kid, jwk: forger.publicJwk }).sign(forger.privateKey);
  assert.equal((await unauthenticated(v.verify(embedded))).details.reason, 'signature');
});

test('a discovery document reached through a redirect to plain http on another host is refused', async () => {
  // The issuer (plain http on this machine, as allowed) redirects its discovery document to
  // plain http on 0.0.0.0 (another host as far as the key-source rule goes, where an on-path
  // attacker answers): that document names the attacker's key set, over a URL that passes the
  // rule by itself. Followed, the attacker's keys would mint any identity.
  const forger = await iss.foreignKey();
  let port = 0;
  const evil: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(302, { location: `http://0.0.0.0:${port}/moved` }).end();
    } else if (req.url === '/moved') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `http://127.0.0.1:${port}`, jwks_uri: `http://127.0.0.1:${port}/jwks` }));
    } else if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [forger.publicJwk] }));
    } else if (req.url === '/tenant/.well-known/openid-configuration') {
      res.writeHead(301, { location: `http://localhost:${port}/tenant/moved` }).end();
    } else if (req.url === '/tenant/moved') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `http://127.0.0.1:${port}/tenant`, jwks_uri: iss.jwksUri }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  port = (evil.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  try {
    const v = createOidcVerifier({ issuer: base, audience: iss.audience });
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ sub: 'admin', groups: ['admins'] })
      .setProtectedHeader({ alg: forger.alg, kid: forger.kid })
      .setIssuer(base).setAudience(iss.audience).setIssuedAt(now).setExpirationTime(now + 300)
      .sign(forger.privateKey);
    const e = await unauthenticated(v.verify(forged));
    assert.equal(e.details.reason, 'issuer_unavailable');
    assert.match(e.message, /redirect/);
    // A redirect to a URL that could serve the document itself (here http on this machine) is followed.
    const tenant = `${base}/tenant`;
    const ok = createOidcVerifier({ issuer: tenant, audience: iss.audience });
    assert.equal((await ok.verify(await iss.mint({ sub: 'a', iss: tenant }))).principal.subject, 'a');
  } finally {
    evil.closeAllConnections();
    await new Promise<void>((r) => evil.close(() => r()));
  }
});

test('jku and x5u headers are never followed: only the configured issuer\'s keys verify', async () => {
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience });
  const forger = await iss.foreignKey();
  let fetched = 0;
  const keys: Server = createServer((_req, res) => {
    fetched++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [forger.publicJwk] }));
  });
  await new Promise<void>((r) => keys.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(keys.address() as AddressInfo).port}/jwks`;
  try {
    const payload = { iss: iss.issuer, aud: iss.audience, sub: 'admin', exp: Math.floor(Date.now() / 1000) + 300 };
    for (const extra of [{ jku: url }, { x5u: url }]) {
      const t = await new SignJWT(payload).setProtectedHeader({ alg: forger.alg, kid: forger.kid, ...extra }).sign(forger.privateKey);
      assert.equal((await unauthenticated(v.verify(t))).details.reason, 'unknown_key', JSON.stringify(extra));
    }
    assert.equal(fetched, 0, 'the URL in the header was never fetched');
  } finally {
    keys.closeAllConnections();
    await new Promise<void>((r) => keys.close(() => r()));
  }
});

test('a token issued in the future (iat past now + the leeway) is refused; within the leeway it passes', async () => {
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, clock_tolerance_ms: 30_000 });
  const now = Math.floor(Date.now() / 1000);
  const future = await iss.mint({ sub: 'time-traveller', iat: now + 3600 }, { expiresIn: 7200 });
  const e = await unauthenticated(v.verify(future));
  assert.equal(e.details.reason, 'not_yet_valid');
  assert.match(e.message, /iat|issued/);
  assert.ok(!e.message.includes(future) && !JSON.stringify(e.details).includes(future), 'the token is not in the refusal');
  assert.equal((await v.verify(await iss.mint({ sub: 'skewed', iat: now + 20 }))).principal.subject, 'skewed', 'a few seconds of skew is within the leeway');
  assert.equal((await v.verify(await iss.mint({ sub: 'no-iat' }, { omit: ['iat'] }))).principal.subject, 'no-iat', 'iat stays optional');
  const zero = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, clock_tolerance_ms: 0 });
  assert.equal((await unauthenticated(zero.verify(await iss.mint({ sub: 'x', iat: now + 5 })))).details.reason, 'not_yet_valid', 'no leeway: 5 s ahead is refused');
  // A non-numeric iat is a broken claim, not a token from the future: it says so.
  const bad = await unauthenticated(v.verify(await iss.mint({ sub: 'bad-iat', iat: 'soon' as unknown as number })));
  assert.equal(bad.details.reason, 'claims');
  assert.equal(bad.message, "the token's iat claim is missing or invalid");
  for (const claim of ['nbf', 'exp'] as const) {
    const e = await unauthenticated(v.verify(await iss.mint({ sub: `bad-${claim}`, [claim]: 'soon' as unknown as number })));
    assert.equal(e.details.reason, 'claims', claim);
    assert.equal(e.message, `the token's ${claim} claim is missing or invalid`);
  }
});

test('a key set that fails to load is refetched at most once per backoff: made-up kids cannot hammer a failing issuer', async () => {
  // jose starts its cooldown only after a fetch that succeeded: while the key set answers errors
  // (an issuer in trouble, or rate limiting us), every token with an unknown kid was one more fetch.
  let hits = 0;
  let failing = false;
  const keys = createServer((req, res) => {
    hits++;
    if (failing) return void res.writeHead(503, { 'retry-after': '30' }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [iss.current().publicJwk] }));
  });
  await new Promise<void>((r) => keys.listen(0, '127.0.0.1', r));
  try {
    const jwks_uri = `http://127.0.0.1:${(keys.address() as AddressInfo).port}/jwks`;
    const reason = async (p: Promise<unknown>) => String((await unauthenticated(p)).details.reason);
    const forger = await iss.foreignKey();
    const forged = () => iss.mint({ sub: 'mallory' }, { key: forger, kid: `made-up-${Math.random()}` });

    // Down from the start: the first token tries once, the next ones are refused without a fetch.
    failing = true;
    const cold = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, jwks_uri, jwks_cooldown_ms: 60_000 });
    for (let i = 0; i < 20; i++) assert.equal(await reason(cold.verify(await forged())), 'issuer_unavailable');
    assert.ok(hits <= 1, `a cold verifier fetched a failing key set ${hits} times for 20 tokens`);

    // Up, then failing after the cooldown of the last good fetch: unknown kids fetch at most once more.
    failing = false;
    hits = 0;
    const warm = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, jwks_uri, jwks_cooldown_ms: 1000 });
    assert.equal((await warm.verify(await iss.mint({ sub: 'ana' }))).principal.subject, 'ana');
    await new Promise((r) => setTimeout(r, 1100));
    failing = true;
    for (let i = 0; i < 20; i++) await unauthenticated(warm.verify(await forged()));
    assert.ok(hits <= 2, `unknown kids fetched a failing key set ${hits - 1} times after the cooldown`);
    // A token signed with a key already loaded still verifies while the key set fails.
    assert.equal((await warm.verify(await iss.mint({ sub: 'bo' }))).principal.subject, 'bo');

    // Recovered: after the backoff the key set is fetched again and works.
    failing = false;
    await new Promise((r) => setTimeout(r, 1100));
    const rotated = await iss.rotate({ keepOld: true });
    const fresh = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, jwks_uri, jwks_cooldown_ms: 1000 });
    assert.equal((await fresh.verify(await iss.mint({ sub: 'cy' }, { key: rotated }))).principal.subject, 'cy');
  } finally {
    keys.closeAllConnections();
    await new Promise<void>((r) => keys.close(() => r()));
  }
});

test('aud: a list is taken when it names this resource (RFC 9068 section 4), refused when it does not; an ID token is refused by audience or scopes by default', async () => {
  const v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, required_scopes: ['mcp'] });
  const shared = await iss.mint({ sub: 'multi', scope: 'mcp', aud: ['https://other.example/api', iss.audience] });
  assert.equal((await verifyBearerToken(v, shared)).principal.subject, 'multi', 'a list that holds the resource URI is this audience');
  const elsewhere = await iss.mint({ sub: 'multi', scope: 'mcp', aud: ['https://other.example/api', `${iss.audience}/`, 'https://warden.test'] });
  assert.equal((await unauthenticated(verifyBearerToken(v, elsewhere))).details.reason, 'wrong_audience', 'near misses of the resource URI are other audiences');
  // What stops an ID token while require_access_token_type is off: its aud is a client id, never
  // the resource URI, and it carries no scope, so required_scopes refuses it even where its aud matches.
  const idToken = { sub: 'alice', nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q', azp: 'agent-client' };
  assert.equal((await unauthenticated(verifyBearerToken(v, await iss.mint({ ...idToken, aud: 'agent-client' })))).details.reason, 'wrong_audience');
  assert.equal((await unauthenticated(verifyBearerToken(v, await iss.mint(idToken)))).details.reason, 'insufficient_scope');
  const typed = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, require_access_token_type: true });
  assert.equal((await unauthenticated(typed.verify(await iss.mint(idToken, { typ: 'JWT' })))).details.reason, 'wrong_type', 'with the type check on, typ JWT is refused whatever its claims');
});
