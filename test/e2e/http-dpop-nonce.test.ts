/**
 * DPoP server nonces (RFC 9449 sections 8 and 9) on `serve --http` with identity.oidc.dpop.nonce,
 * through the real listener: a proof without a nonce, or with one that is not this server's
 * current or previous one, is refused 401 `DPoP error="use_dpop_nonce"` with a fresh `DPoP-Nonce`;
 * a real MCP client that retries with it is served. Three Wardens: `a` and `b` share a
 * nonce_key (replicas), `c` has its own. `a`'s DPoP clock is the test's, so windows pass without waiting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { analystsReadPolicy, connectHttpAgent, initializeBody, mcpHeaders, rawRequest, type RawResponse } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';
import { connectDpopAgent, dpopHolder, type DpopHolder, type ProofOptions } from '../support/dpop-client.js';

const POLICY = { 'base.yaml': analystsReadPolicy(['public.orders']) };
const HTU = 'https://warden.test/mcp';
const SHARED_VAR = `DPOP_NONCE_KEY_${randomBytes(4).toString('hex')}`;
const OTHER_VAR = `DPOP_NONCE_KEY_${randomBytes(4).toString('hex')}`;
const WINDOW_MS = 5000;
const nonceOidc = (keyVar: string) => `dpop: { nonce: true, nonce_lifetime: 5s, nonce_key: env:${keyVar} }`;

/** `a`'s DPoP clock: the real one, unless a test holds it at a time of its own. */
let held: number | null = null;
const clock = (): number => held ?? Date.now();

let a: HttpWarden;
let b: HttpWarden;
let c: HttpWarden;
let holder: DpopHolder;

before(async () => {
  process.env[SHARED_VAR] = randomBytes(32).toString('hex');
  process.env[OTHER_VAR] = randomBytes(32).toString('hex');
  a = await startHttpWarden(POLICY, '', { oidc: nonceOidc(SHARED_VAR), dpopClock: clock });
  b = await startHttpWarden(POLICY, '', { oidc: nonceOidc(SHARED_VAR) });
  c = await startHttpWarden(POLICY, '', { oidc: nonceOidc(OTHER_VAR) });
  holder = await dpopHolder(HTU);
});
after(async () => {
  await c?.stop();
  await b?.stop();
  await a?.stop();
  delete process.env[SHARED_VAR];
  delete process.env[OTHER_VAR];
});

/** POST an initialize to `w` with a DPoP-bound token of its issuer and a proof made with `o`. */
async function post(w: HttpWarden, o: ProofOptions = {}, extra: Record<string, string> = {}): Promise<RawResponse> {
  const token = await w.token('ana', ['analysts'], { cnf: { jkt: holder.jkt } });
  const iat = w === a ? Math.floor(clock() / 1000) : undefined;
  const proof = await holder.proof(token, { ...(iat !== undefined ? { iat } : {}), ...o });
  return rawRequest(w.url, { headers: { ...mcpHeaders(), authorization: `DPoP ${token}`, dpop: proof, ...extra }, body: initializeBody() });
}

const NONCE_FORM = /^w\.\d+\.[A-Za-z0-9_-]{16,}$/;

/** A 401 use_dpop_nonce with a fresh nonce, the coded body, no session opened; the nonce it carries. */
function nonceRefused(r: RawResponse): string {
  assert.equal(r.status, 401, r.body);
  assert.equal(r.headers['mcp-session-id'], undefined, 'no session was opened');
  assert.match(String(r.headers['www-authenticate']), /DPoP error="use_dpop_nonce", error_description="[^"]+"/);
  const body = JSON.parse(r.body) as { error: string; code: string; reason: string };
  assert.deepEqual([body.error, body.code, body.reason], ['use_dpop_nonce', 'WARDEN_UNAUTHENTICATED', 'dpop_nonce']);
  const nonce = r.headers['dpop-nonce'];
  assert.ok(typeof nonce === 'string' && NONCE_FORM.test(nonce), `a DPoP-Nonce header: ${String(nonce)}`);
  return nonce;
}

/** A 200 that carries the server's current nonce; that nonce. */
function served(r: RawResponse): string {
  assert.equal(r.status, 200, r.body);
  const nonce = r.headers['dpop-nonce'];
  assert.ok(typeof nonce === 'string' && NONCE_FORM.test(nonce), `a DPoP-Nonce header on success: ${String(nonce)}`);
  return nonce;
}

describe('identity.oidc.dpop.nonce: server-provided nonces', () => {
  test('a proof without a nonce is refused with use_dpop_nonce and a DPoP-Nonce; retried with it, it is served, and a real MCP client lists tools', async () => {
    const before = a.calls().length;
    const nonce = nonceRefused(await post(a));
    // The same request with the nonce is served; a browser origin may read the nonce header.
    const ok = await post(a, { nonce }, { origin: a.url });
    served(ok);
    assert.match(String(ok.headers['access-control-expose-headers']), /dpop-nonce/i);
    const agent = await connectDpopAgent(a.url, await a.token('ana', ['analysts'], { cnf: { jkt: holder.jkt } }), holder);
    try {
      assert.ok((await agent.tools()).includes('query_database'));
      assert.equal(agent.nonceChallenges(), 1, 'one challenge, then the client carries the nonce each response gave it');
    } finally {
      await agent.close();
    }
    assert.equal(a.calls().length, before, 'nothing was called');
  });

  test("a nonce is taken in its window and the next, refused two windows later (the server's clock moved, no waiting)", async () => {
    held = Date.now();
    try {
      const nonce = nonceRefused(await post(a));
      served(await post(a, { nonce }));
      held += WINDOW_MS;
      assert.notEqual(served(await post(a, { nonce })), nonce, 'the previous window: taken, and the current nonce is a new one');
      held += WINDOW_MS;
      const fresh = nonceRefused(await post(a, { nonce }));
      assert.notEqual(fresh, nonce);
      served(await post(a, { nonce: fresh }));
    } finally {
      held = null;
    }
  });

  test('a nonce minted with another key, altered or made up is refused with use_dpop_nonce; a malformed one is a proof error', async () => {
    const ofA = nonceRefused(await post(a));
    const ofC = nonceRefused(await post(c));
    nonceRefused(await post(a, { nonce: ofC }));
    nonceRefused(await post(c, { nonce: ofA }));
    const mac = ofA.slice(ofA.lastIndexOf('.') + 1);
    const altered = `${ofA.slice(0, ofA.length - mac.length)}${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    nonceRefused(await post(a, { nonce: altered }));
    nonceRefused(await post(a, { nonce: 'w.1.AAAAAAAAAAAAAAAAAAAAAA' }));
    for (const bad of [42, ['x'], '', 'x'.repeat(300), 'a b"c']) {
      const r = await post(a, { nonce: bad });
      assert.equal(r.status, 401, r.body);
      assert.match(String(r.headers['www-authenticate']), /DPoP error="invalid_dpop_proof"/);
      assert.equal((JSON.parse(r.body) as { reason: string }).reason, 'dpop_proof', JSON.stringify(bad));
      assert.match(r.body, /nonce/);
    }
  });

  test('replicas sharing nonce_key take each other\'s nonces; one with another key does not', async () => {
    const ofA = served(await post(a, { nonce: nonceRefused(await post(a)) }));
    const ofB = nonceRefused(await post(b));
    served(await post(b, { nonce: ofA }));
    served(await post(a, { nonce: ofB }));
    nonceRefused(await post(c, { nonce: ofB }));
  });

  test('the replay cache still applies: the same proof with a good nonce is taken once', async () => {
    const token = await a.token('ana', ['analysts'], { cnf: { jkt: holder.jkt } });
    const nonce = nonceRefused(await post(a));
    const proof = await holder.proof(token, { nonce });
    const send = () => rawRequest(a.url, { headers: { ...mcpHeaders(), authorization: `DPoP ${token}`, dpop: proof }, body: initializeBody() });
    served(await send());
    const again = await send();
    assert.equal(again.status, 401);
    assert.match(again.body, /used before/);
  });

  test('a plain bearer token is still served beside, its responses carrying the nonce too', async () => {
    const plain = await a.token('ana', ['analysts']);
    served(await rawRequest(a.url, { headers: mcpHeaders(plain), body: initializeBody() }));
    const agent = await connectHttpAgent(a.url, plain);
    try {
      assert.equal((await agent.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) AS n FROM orders' })).isError, false);
    } finally {
      await agent.close();
    }
  });
});

describe('identity.oidc.dpop.nonce_key must be a real key', () => {
  test('a nonce_key shorter than 32 characters: serve --http refuses to start (WARDEN_CONFIG), without saying the key', async () => {
    const v = `DPOP_NONCE_KEY_${randomBytes(4).toString('hex')}`;
    process.env[v] = 'short-key-1234';
    let started: HttpWarden | undefined;
    try {
      await assert.rejects(
        async () => {
          started = await startHttpWarden(POLICY, '', { oidc: nonceOidc(v) });
        },
        (e: Error & { code?: string }) => e.code === 'WARDEN_CONFIG' && /nonce_key/.test(e.message) && !e.message.includes('short-key-1234'),
      );
    } finally {
      await (started as HttpWarden | undefined)?.stop();
      delete process.env[v];
    }
  });
});
