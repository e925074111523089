/**
 * DPoP (RFC 9449) on `serve --http` with identity.oidc.dpop, through the real listener: a real
 * MCP client whose fetch signs a fresh proof for every request is served (the call recorded with
 * its principal), and every proof that is not this request's, this token's, this key's and fresh
 * is refused 401 `DPoP error="invalid_dpop_proof"` with nothing recorded. Proofs name the public
 * URL (the audience, https://warden.test/mcp), not the loopback address the test connects to:
 * what a client behind a proxy does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { exportJWK } from 'jose';
import { analystsReadPolicy, connectHttpAgent, initializeBody, mcpHeaders, rawRequest, type RawResponse } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';
import { connectDpopAgent, dpopHolder, type DpopHolder } from '../support/dpop-client.js';

const POLICY = { 'base.yaml': analystsReadPolicy(['public.orders']) };
const HTU = 'https://warden.test/mcp';

let w: HttpWarden;
let holder: DpopHolder;

before(async () => {
  w = await startHttpWarden(POLICY, '', { oidc: 'dpop: { max_age: 60s, clock_skew: 5s }' });
  holder = await dpopHolder(HTU);
});
after(() => w?.stop());

/** An analyst's token bound to `jkt` (the holder's key by default). */
const boundToken = (jkt = holder.jkt) => w.token('ana', ['analysts'], { cnf: { jkt } });

/** POST an initialize with `Authorization: <scheme> token` and these DPoP header values. */
function post(base: string, scheme: string, token: string, proofs: string[]): Promise<RawResponse> {
  const headers = { ...mcpHeaders(), authorization: `${scheme} ${token}`, ...(proofs.length ? { dpop: proofs.length === 1 ? proofs[0]! : proofs } : {}) };
  return rawRequest(base, { headers: headers as Record<string, string>, body: initializeBody() });
}

/** The challenge values of a response, as one string. */
const challenges = (r: RawResponse) => String(r.headers['www-authenticate']);

/** A 401 with the DPoP `error` and a message matching `why`, the coded body, no token echoed, nothing recorded. */
function refused(r: RawResponse, token: string, error: 'invalid_dpop_proof' | 'invalid_token', why: RegExp, scheme = 'DPoP'): void {
  assert.equal(r.status, 401, r.body);
  assert.equal(r.headers['mcp-session-id'], undefined, 'no session was opened');
  assert.match(challenges(r), new RegExp(`${scheme} error="${error}"`));
  const body = JSON.parse(r.body) as { error: string; error_description: string; code: string };
  assert.equal(body.error, error);
  assert.equal(body.code, 'WARDEN_UNAUTHENTICATED');
  assert.match(body.error_description, why);
  for (const part of token.split('.')) assert.ok(!r.body.includes(part) && !challenges(r).includes(part), 'the token is not echoed');
}

describe('DPoP-bound tokens over Streamable HTTP (identity.oidc.dpop)', () => {
  test('a real MCP client sending a fresh proof with every request is served; the call is recorded with its principal', async () => {
    const before = w.calls().length;
    const a = await connectDpopAgent(w.url, await boundToken(), holder);
    try {
      const r = await a.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) AS n FROM orders' });
      assert.equal(r.isError, false, r.text);
      assert.match(r.text, /20/);
      assert.ok(a.proofs() >= 3, `a proof per request (initialize, initialized, call): ${a.proofs()}`);
    } finally {
      await a.close();
    }
    const rec = w.calls().slice(before);
    assert.equal(rec.length, 1);
    assert.equal(rec[0]!.decision, 'allow');
    const db = new Database(w.dir.dbPath, { readonly: true });
    try {
      const session = db.prepare('SELECT subject, principal, transport FROM sessions WHERE id = ?').get(rec[0]!.session_id) as { subject: string; principal: string; transport: string };
      assert.equal(session.subject, 'ana');
      assert.deepEqual((JSON.parse(session.principal) as { groups: string[] }).groups, ['analysts']);
      assert.equal(session.transport, 'http');
    } finally {
      db.close();
    }
    assert.ok(!JSON.stringify(rec).includes('eyJ'), 'neither token nor proof in the transcript');
  });

  test('a proof is used once: the same proof again is refused (jti replay)', async () => {
    const token = await boundToken();
    const proof = await holder.proof(token);
    assert.equal((await post(w.url, 'DPoP', token, [proof])).status, 200);
    refused(await post(w.url, 'DPoP', token, [proof]), token, 'invalid_dpop_proof', /used before/);
  });

  test('a proof for another method, another URL, too old, or another token is refused', async () => {
    const token = await boundToken();
    const before = w.calls().length;
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { htm: 'GET' })]), token, 'invalid_dpop_proof', /htm is not this request's method/);
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { htu: 'https://warden.test/other' })]), token, 'invalid_dpop_proof', /htu is not this request's URL/);
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { htu: 'https://evil.test/mcp' })]), token, 'invalid_dpop_proof', /htu/);
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { iat: Math.floor(Date.now() / 1000) - 120 })]), token, 'invalid_dpop_proof', /older than identity.oidc.dpop.max_age/);
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { iat: Math.floor(Date.now() / 1000) + 120 })]), token, 'invalid_dpop_proof', /in the future/);
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { athOf: await boundToken() + 'x' })]), token, 'invalid_dpop_proof', /ath is not the hash of this access token/);
    // The htu is compared normalised (RFC 9449 4.3): case of scheme and host, default port, query ignored.
    assert.equal((await post(w.url, 'DPoP', token, [await holder.proof(token, { htu: 'HTTPS://Warden.TEST:443/mcp?x=1#f' })])).status, 200);
    assert.equal(w.calls().length, before);
  });

  test("a proof by another key than the token's cnf.jkt, an HS256 proof, a proof carrying a private jwk, two DPoP headers or none are refused", async () => {
    const token = await boundToken();
    const thief = await dpopHolder(HTU);
    refused(await post(w.url, 'DPoP', token, [await thief.proof(token)]), token, 'invalid_dpop_proof', /another key than the one the token is bound to/);
    // A proof whose header names the holder's key but is signed by the thief's: the signature fails.
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { signWith: thief.privateKey })]), token, 'invalid_dpop_proof', /signature does not verify/);
    const secret = new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!');
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { header: { alg: 'HS256' }, signWith: secret })]), token, 'invalid_dpop_proof', /algorithm Warden does not take/);
    const privateJwk = await exportJWK(holder.privateKey);
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { header: { jwk: privateJwk } })]), token, 'invalid_dpop_proof', /private key material/);
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token, { header: { typ: 'JWT' } })]), token, 'invalid_dpop_proof', /not typed dpop\+jwt/);
    refused(await post(w.url, 'DPoP', token, [await holder.proof(token), await holder.proof(token)]), token, 'invalid_dpop_proof', /one DPoP proof header/);
    refused(await post(w.url, 'DPoP', token, []), token, 'invalid_dpop_proof', /needs a DPoP proof header/);
  });

  test('a DPoP-bound token sent as Bearer, an unbound token sent as DPoP and an mTLS-bound token are refused; a plain bearer token is still served', async () => {
    const bound = await boundToken();
    const r = await post(w.url, 'Bearer', bound, []);
    refused(r, bound, 'invalid_token', /DPoP-bound \(cnf.jkt\)/, 'Bearer');
    assert.match(challenges(r), /DPoP algs="ES256 /, 'the DPoP scheme is offered beside');
    const plain = await w.token('ana', ['analysts']);
    refused(await post(w.url, 'DPoP', plain, [await holder.proof(plain)]), plain, 'invalid_token', /not DPoP-bound/);
    const mtls = await w.token('ana', ['analysts'], { cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } });
    refused(await post(w.url, 'Bearer', mtls, []), mtls, 'invalid_token', /sender-constrained in a way Warden cannot check/, 'Bearer');
    const both = await w.token('ana', ['analysts'], { cnf: { jkt: holder.jkt, 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } });
    refused(await post(w.url, 'DPoP', both, [await holder.proof(both)]), both, 'invalid_token', /sender-constrained in a way Warden cannot check/);
    const a = await connectHttpAgent(w.url, plain);
    try {
      assert.equal((await a.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) AS n FROM orders' })).isError, false);
    } finally {
      await a.close();
    }
  });

  test('without a token the challenge offers Bearer and DPoP (with its algorithms); the metadata advertises them', async () => {
    const r = await rawRequest(w.url, { headers: mcpHeaders(), body: initializeBody() });
    assert.equal(r.status, 401);
    assert.deepEqual(r.headers['www-authenticate'] && challenges(r).split(/, (?=Bearer|DPoP)/).map((c) => c.split(' ')[0]), ['Bearer', 'DPoP']);
    assert.match(challenges(r), /DPoP algs="[^"]*ES256[^"]*"/);
    assert.doesNotMatch(challenges(r), /HS256|none/);
    const meta = await rawRequest(w.url, { method: 'GET', path: '/.well-known/oauth-protected-resource/mcp' });
    const doc = JSON.parse(meta.body) as { dpop_signing_alg_values_supported: string[]; dpop_bound_access_tokens_required: boolean };
    assert.ok(doc.dpop_signing_alg_values_supported.includes('ES256'));
    assert.equal(doc.dpop_bound_access_tokens_required, false);
  });
});

describe('identity.oidc.dpop.required', () => {
  let req: HttpWarden;
  before(async () => {
    req = await startHttpWarden(POLICY, '', { oidc: 'dpop: { required: true, replay_cache_size: 1000 }' });
  });
  after(() => req?.stop());

  test('a plain bearer token is refused, before its verification; a DPoP-bound token with its proof is served', async () => {
    const plain = await req.token('ana', ['analysts']);
    const r = await post(req.url, 'Bearer', plain, []);
    refused(r, plain, 'invalid_token', /DPoP-bound tokens only/);
    assert.doesNotMatch(challenges(r), /Bearer/, 'Bearer is not offered');
    const none = await rawRequest(req.url, { headers: mcpHeaders(), body: initializeBody() });
    assert.match(challenges(none), /^DPoP /);
    const bound = await req.token('ana', ['analysts'], { cnf: { jkt: holder.jkt } });
    const a = await connectDpopAgent(req.url, bound, holder);
    try {
      assert.equal((await a.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) AS n FROM orders' })).isError, false);
    } finally {
      await a.close();
    }
  });
  test('a replay cache full of live proof ids refuses the next proof with 503 and Retry-After (fail closed), never forgetting one', async () => {
    const bound = await req.token('ana', ['analysts'], { cnf: { jkt: holder.jkt } });
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
    let full: RawResponse | undefined;
    let taken = 0;
    // Ten at a time (under max_requests_per_principal), until one is refused for want of room.
    for (let i = 0; i < 110 && !full; i++) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, async () => rawRequest(req.url, { headers: { ...mcpHeaders(), authorization: `DPoP ${bound}`, dpop: await holder.proof(bound) }, body })),
      );
      for (const r of batch) {
        if (r.status === 503) full = r;
        else {
          assert.notEqual(r.status, 401, r.body);
          taken++;
        }
      }
    }
    assert.ok(full, 'the cache filled up');
    assert.ok(taken <= 1000, `at most replay_cache_size proofs were taken: ${taken}`);
    assert.equal(full.headers['retry-after'], '5');
    assert.match(challenges(full), /DPoP error="temporarily_unavailable"/);
    assert.equal((JSON.parse(full.body) as { reason: string }).reason, 'dpop_replay_full');
  });
});

describe('identity.oidc.dpop needs a URL for htu', () => {
  test('an audience that is no http(s) URL and no dpop.public_url: serve --http refuses to start (WARDEN_CONFIG)', async () => {
    await assert.rejects(startHttpWarden(POLICY, '', { audience: 'api://warden', oidc: 'dpop: {}' }), (e: Error & { code?: string }) => e.code === 'WARDEN_CONFIG' && /dpop.public_url/.test(e.message));
  });
});
