/**
 * Per-principal caps on the HTTP listener, over real HTTP: one identity holding its cap of
 * requests in flight (slow bodies that never finish, tool calls answered over SSE) or of GET
 * streams is answered 429 WARDEN_RATE_LIMITED with Retry-After, while another identity is still
 * served; its slots come back when responses end, when the client aborts and when the server's
 * request timeout closes the connection. Unauthenticated requests count against nobody. Why: before,
 * one valid token could hold any number of slow requests and streams open, for everyone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analystsReadPolicy, assertCapRefusal, connectHttpAgent, initializeBody, mcpHeaders, pingUnknownSession, rawRequest, type RawResponse, slowPost, type SlowRequest } from '../support/http-agent.js';
import { lockTable, startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';
import { setLogLevel } from '../../src/server/log.js';

const POLICY = analystsReadPolicy(['public.slow']);

/** A quick request in a session that does not exist (http-agent.ts pingUnknownSession). */
const probe = (w: HttpWarden, token: string) => pingUnknownSession(w.url, token);

async function atCap(w: HttpWarden, token: string, what: string): Promise<void> {
  await until(async () => (await probe(w, token)).status === 429, 5000, what);
}

/** A 429 of these caps: Retry-After, Connection: close, and the JSON-RPC error body of every refusal. */
function assertRefused(r: RawResponse, retryAfter: string, limitKey: string): void {
  assertCapRefusal(r, 429, retryAfter, /^WARDEN_RATE_LIMITED: this identity \(issuer and subject\) holds as many /, limitKey);
}

describe('HTTP per-principal caps (configured)', () => {
  let w: HttpWarden;
  before(async () => {
    w = await startHttpWarden({ 'base.yaml': POLICY }, 'http: { max_requests_per_principal: 3, max_streams_per_principal: 2, request_timeout: 3s }');
  });
  after(() => w?.stop());

  test('slow bodies: the next request is refused, another principal is served, an abort and the timeout free the slots', async () => {
    const alice = await w.token('alice', ['analysts']);
    const slow = [slowPost(w.url, alice), slowPost(w.url, alice), slowPost(w.url, alice)];
    await atCap(w, alice, 'alice to hold her 3 slots');
    const started = Date.now();
    assertRefused(await probe(w, alice), '1', 'http.max_requests_per_principal');
    // The same issuer and subject with another per-login claim is the same identity.
    assertRefused(await probe(w, await w.token('alice', ['analysts'], { run_id: '42' })), '1', 'max_requests_per_principal');
    // Requests that are not tool calls count too: an initialize is refused like the rest.
    assertRefused(await rawRequest(w.url, { headers: mcpHeaders(alice), body: initializeBody() }), '1', 'max_requests_per_principal');

    // A client that aborts mid-body gives its slot back; one more slow request takes it again.
    // (Before bob connects: under load his connect outlasted the 3 s request timeout, which then
    // ended the request before the abort.)
    slow[0]!.abort();
    assert.equal(await slow[0]!.done, 'closed');
    await until(async () => (await probe(w, alice)).status === 404, 5000, 'the aborted request to free its slot');
    slow.push(slowPost(w.url, alice));
    await atCap(w, alice, 'alice at her cap again');

    const bob = await connectHttpAgent(w.url, await w.token('bob', ['analysts']));
    try {
      assert.ok((await bob.tools()).includes('query_database'), 'bob is served while alice is at her cap');
      assert.equal((await probe(w, await w.token('bob', ['analysts']))).status, 404);
    } finally {
      await bob.close();
    }

    // The server's request timeout (3 s) closes the rest (408) and frees their slots.
    const ended = await Promise.all(slow.slice(1).map((s) => s.done));
    for (const r of ended) assert.ok(r === 'closed' || r.status === 408, `a stalled body ends at the request timeout: ${JSON.stringify(r)}`);
    assert.ok(Date.now() - started < 15_000, 'the timeout ended them, not the test');
    assert.equal((await probe(w, alice)).status, 404, 'every slot came back');
    // Exactly: three fit again, the fourth is refused.
    const again = [slowPost(w.url, alice), slowPost(w.url, alice), slowPost(w.url, alice)];
    await atCap(w, alice, 'alice at her cap after the timeouts');
    again.forEach((s) => s.abort());
    await until(async () => (await probe(w, alice)).status === 404, 5000, 'the aborted requests to free their slots');
  });

  test('tool calls answered over SSE hold their slots until their responses end', async () => {
    const release = await lockTable(w.db, 'slow');
    const carol = await connectHttpAgent(w.url, await w.token('carol', ['analysts']));
    const carolToken = await w.token('carol', ['analysts']);
    let released = false;
    try {
      const calls = [0, 1, 2].map(() => carol.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' }));
      await atCap(w, carolToken, 'carol\'s 3 calls to hold her slots');
      assert.equal((await probe(w, await w.token('dave', ['analysts']))).status, 404, 'another principal is admitted');
      await release();
      released = true;
      for (const r of await Promise.all(calls)) assert.equal(r.isError, false, r.text);
      await until(async () => (await probe(w, carolToken)).status === 404, 5000, 'the ended responses to free their slots');
    } finally {
      if (!released) await release();
      await carol.close();
    }
  });

  test('GET streams are capped per principal across its sessions; closing one frees its slot', async () => {
    const erin = await w.token('erin', ['analysts']);
    const sessions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const init = await rawRequest(w.url, { headers: mcpHeaders(erin), body: initializeBody() });
      assert.equal(init.status, 200, init.body);
      sessions.push(String(init.headers['mcp-session-id']));
    }
    const stream = (sid: string, signal?: AbortSignal) =>
      fetch(`${w.url}/mcp`, { headers: { authorization: `Bearer ${erin}`, accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, ...(signal ? { signal } : {}) });
    const first = new AbortController();
    const open = [await stream(sessions[0]!, first.signal), await stream(sessions[1]!)];
    for (const r of open) assert.equal(r.status, 200);
    const third = await stream(sessions[2]!);
    const refusal = { status: third.status, headers: Object.fromEntries(third.headers), body: await third.text() };
    assertRefused(refusal, '30', 'http.max_streams_per_principal');
    assert.equal((await probe(w, erin)).status, 404, 'streams do not take request slots');
    first.abort();
    await until(async () => {
      const r = await stream(sessions[2]!);
      if (r.status !== 200) await r.body?.cancel();
      else open.push(r);
      return r.status === 200;
    }, 5000, 'the closed stream to free its slot');
    for (const r of open.slice(1)) await r.body?.cancel();
  });
});

describe('HTTP per-principal caps (defaults)', () => {
  let w: HttpWarden;
  before(async () => {
    w = await startHttpWarden({ 'base.yaml': POLICY });
  });
  after(() => w?.stop());

  test('with no http settings 32 requests fit and the 33rd is refused; an unauthenticated flood counts against nobody', async () => {
    const alice = await w.token('alice', ['analysts']);
    const forged = `${alice.slice(0, -4)}AAAA`;
    // 64 unauthenticated requests with bodies that never finish: each is refused before any count.
    const flood = Array.from({ length: 64 }, (_, i) => slowPost(w.url, i % 2 ? forged : ''));
    const answered = await Promise.all(flood.map((s) => s.done));
    for (const r of answered) assert.ok(r !== 'closed' && r.status === 401, JSON.stringify(r));
    let logs = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      logs += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    setLogLevel('warn');
    const slow: SlowRequest[] = [];
    try {
      for (let i = 0; i < 32; i++) slow.push(slowPost(w.url, alice));
      await atCap(w, alice, 'alice to hold the default 32 slots');
      for (let i = 0; i < 5; i++) assertRefused(await probe(w, alice), '1', '(32, http.max_requests_per_principal)');
    } finally {
      setLogLevel('silent');
      process.stderr.write = write;
      slow.forEach((s) => s.abort());
      flood.forEach((s) => s.abort());
    }
    const lines = logs.split('\n').filter((l) => l.includes('the principal holds as many open as it may'));
    assert.equal(lines.length, 1, `one log line per burst, not one per refusal:\n${logs}`);
    assert.match(lines[0]!, /"subject":"alice"/);
    assert.ok(!logs.includes(alice) && !logs.includes(forged), 'the token is in no log line');
    await until(async () => (await probe(w, alice)).status === 404, 5000, 'the aborted requests to free their slots');
  });
});
