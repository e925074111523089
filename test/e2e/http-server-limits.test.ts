/**
 * Server-wide caps on the HTTP listener, over real HTTP: when all identities together hold
 * http.max_requests requests in flight or http.max_streams GET streams, one more (from an identity
 * under its own cap) is answered 503 WARDEN_UNAVAILABLE with Retry-After; health probes are still
 * answered; the slots come back when responses end or clients abort. Why: the per-identity caps
 * alone let many identities (or many valid tokens of distinct subjects) hold unbounded requests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analystsReadPolicy, assertCapRefusal, initializeBody, mcpHeaders, pingUnknownSession, rawRequest, type RawResponse, slowPost } from '../support/http-agent.js';
import { startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';

const POLICY = analystsReadPolicy(['public.users']);

/** A quick request in a session that does not exist (http-agent.ts pingUnknownSession). */
const probe = (w: HttpWarden, token: string) => pingUnknownSession(w.url, token);

/** A 503 of the server-wide caps: Retry-After, Connection: close, a coded JSON-RPC error naming the setting. */
function assertFull(r: RawResponse, retryAfter: string, limitKey: string): void {
  assertCapRefusal(r, 503, retryAfter, /^WARDEN_UNAVAILABLE: this server holds as many /, limitKey);
}

describe('HTTP server-wide caps', () => {
  let w: HttpWarden;
  before(async () => {
    w = await startHttpWarden({ 'base.yaml': POLICY }, 'http: { max_requests: 3, max_streams: 2, max_requests_per_principal: 2, max_streams_per_principal: 1, request_timeout: 5s }');
  });
  after(() => w?.stop());

  test('requests in flight across identities: the next is refused 503, health stays up, an abort frees a slot', async () => {
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((s) => w.token(s, ['analysts'])));
    const slow = [slowPost(w.url, alice!), slowPost(w.url, alice!), slowPost(w.url, bob!)];
    await until(async () => (await probe(w, carol!)).status === 503, 5000, 'alice and bob to hold the 3 server-wide slots');
    assertFull(await probe(w, carol!), '1', '(3, http.max_requests)');
    // An initialize of a fresh identity is refused like the rest, and counts nothing.
    assertFull(await rawRequest(w.url, { headers: mcpHeaders(await w.token('dave', ['analysts'])), body: initializeBody() }), '1', 'http.max_requests');
    // Bob is under his own cap (2) but the server is full: 503, not 429.
    assertFull(await probe(w, bob!), '1', 'http.max_requests');
    // Alice is at her own cap: that is answered first, 429.
    assert.equal((await probe(w, alice!)).status, 429);
    const health = await rawRequest(w.url, { method: 'GET', path: '/healthz' });
    assert.equal(health.status, 200, 'health probes are not counted');

    slow[2]!.abort();
    assert.equal(await slow[2]!.done, 'closed');
    await until(async () => (await probe(w, carol!)).status === 404, 5000, 'the aborted request to free its server-wide slot');
    slow.push(slowPost(w.url, carol!));
    await until(async () => (await probe(w, bob!)).status === 503, 5000, 'the server full again');
    slow.forEach((s) => s.abort());
    await until(async () => (await probe(w, bob!)).status === 404, 5000, 'every slot to come back');
  });

  test('GET streams across identities: the next is refused 503 with Retry-After 30; closing one frees its slot', async () => {
    const names = ['erin', 'frank', 'gina'];
    const tokens = await Promise.all(names.map((s) => w.token(s, ['analysts'])));
    const sids: string[] = [];
    for (const t of tokens) {
      const init = await rawRequest(w.url, { headers: mcpHeaders(t), body: initializeBody() });
      assert.equal(init.status, 200, init.body);
      sids.push(String(init.headers['mcp-session-id']));
    }
    const stream = (i: number, signal?: AbortSignal) =>
      fetch(`${w.url}/mcp`, { headers: { authorization: `Bearer ${tokens[i]}`, accept: 'text/event-stream', 'mcp-session-id': sids[i]!, 'mcp-protocol-version': '2025-11-25' }, ...(signal ? { signal } : {}) });
    const first = new AbortController();
    const open = [await stream(0, first.signal), await stream(1)];
    for (const r of open) assert.equal(r.status, 200);
    const third = await stream(2);
    assertFull({ status: third.status, headers: Object.fromEntries(third.headers), body: await third.text() }, '30', '(2, http.max_streams)');
    assert.equal((await probe(w, tokens[2]!)).status, 404, 'streams do not take request slots');
    first.abort();
    await until(async () => {
      const r = await stream(2);
      if (r.status !== 200) await r.body?.cancel();
      else open.push(r);
      return r.status === 200;
    }, 5000, 'the closed stream to free its server-wide slot');
    for (const r of open.slice(1)) await r.body?.cancel();
  });
});
