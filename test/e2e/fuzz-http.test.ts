/**
 * Seeded transport fuzzing of Warden over real Streamable HTTP: the hostile JSON-RPC bodies of
 * fuzz-inputs.ts POSTed inside a 2025-11-25 session and without one (the per-request leg), and
 * raw HTTP on a socket: wrong or missing Content-Type and Accept, chunked bodies that stop,
 * bodies over the limit, lengths that lie, header injection, session ids of the wrong shape,
 * odd methods and versions. After every case the server serves a well-formed call in the
 * session; every answer is below 500 and, when JSON, coded, with no stack, path or secret; the
 * transcript chain verifies at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';
import { assertCodedAnswer, fuzzCorpus, rngOf } from '../support/fuzz-inputs.js';
import { WARDEN_BIN } from '../support/repo.js';

const SEED = Number(process.env.WARDEN_FUZZ_SEED ?? 20261201);
const CASES = 170;
const MAX_BODY = 64 * 1024;
const POLICY = `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
`;

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY }, `http: { max_body_bytes: ${MAX_BODY} }`);
});
after(() => w?.stop());

/** The JSON-RPC message of an answer, JSON or the last SSE event; undefined when the body is neither. */
function message(body: string): Record<string, any> | undefined {
  const data = body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  try {
    return JSON.parse(data.length ? data.at(-1)! : body) as Record<string, any>;
  } catch {
    return undefined;
  }
}

function secrets(token: string): string[] {
  const u = new URL(w.db.url);
  return [w.db.url, decodeURIComponent(u.password), w.dir.dir, token].filter((s) => s.length >= 6);
}

/** Check one HTTP answer: below 500, and a JSON body passes the oracle; a non-JSON body leaks nothing. */
function checkAnswer(status: number, body: string, token: string, label: string): void {
  assert.ok(status === 0 || status < 500, `${label}: status ${status}: ${body.slice(0, 300)}`);
  if (!body.trim()) return;
  const m = message(body);
  // An OAuth refusal (RFC 6750: a string `error`, before any JSON-RPC) names its code beside it.
  if (m && typeof m.error === 'string') {
    assert.match(String(m.code), /^WARDEN_[A-Z_]+$/, `${label}: an uncoded OAuth refusal: ${body.slice(0, 300)}`);
    for (const s of [...secrets(token), 'node_modules', '    at ']) assert.equal(body.includes(s), false, `${label}: ${body.slice(0, 300)}`);
  } else if (m) assertCodedAnswer(m, secrets(token), label);
  else for (const s of [...secrets(token), 'node_modules', '    at ']) assert.equal(body.includes(s), false, `${label}: ${body.slice(0, 300)}`);
}

/** Send raw bytes on a socket; the status and body of the answer, or status 0 when none came in `ms`. */
function rawSocket(chunks: (Buffer | string)[], ms = 1500, gapMs = 0): Promise<{ status: number; body: string }> {
  const u = new URL(w.url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    let got = '';
    const done = () => {
      clearTimeout(t);
      s.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0);
      const at = got.indexOf('\r\n\r\n');
      let body = at === -1 ? '' : got.slice(at + 4);
      if (/transfer-encoding: chunked/i.test(got.slice(0, at))) body = body.replace(/^[0-9a-f]+\r\n/gim, '');
      resolve({ status, body });
    };
    const t = setTimeout(done, ms);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (/\r\n\r\n/.test(got) && /content-length: (\d+)/i.test(got)) {
        const len = Number(/content-length: (\d+)/i.exec(got)![1]);
        if (Buffer.byteLength(got.slice(got.indexOf('\r\n\r\n') + 4), 'latin1') >= len) done();
      }
    });
    s.on('end', done);
    s.on('error', done);
    s.on('connect', async () => {
      for (const c of chunks) {
        s.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

/** HTTP-level hostile requests: raw socket byte lists. */
function httpCases(token: string, sid: string, n: number): { label: string; chunks: (Buffer | string)[]; ms?: number }[] {
  const rng = rngOf(SEED + 1);
  const host = new URL(w.url).host;
  const ping = '{"jsonrpc":"2.0","id":7,"method":"ping"}';
  const head = (lines: string[], body = ping, cl: number | null = Buffer.byteLength(body)) =>
    [`POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n${lines.map((l) => l + '\r\n').join('')}${cl === null ? '' : `Content-Length: ${cl}\r\n`}Connection: close\r\n\r\n`, body];
  const std = ['Content-Type: application/json', 'Accept: application/json, text/event-stream'];
  const gens: (() => { label: string; chunks: (Buffer | string)[]; ms?: number })[] = [
    () => ({ label: 'content-type', chunks: head([rng.pick(['Content-Type: text/plain', 'Content-Type: application/x-www-form-urlencoded', 'Content-Type: multipart/form-data; boundary=x', 'Content-Type: application/json; charset=latin1', 'Content-Type: ', 'Content-Type: application/json\u0000']), 'Accept: application/json, text/event-stream', `Mcp-Session-Id: ${sid}`]) }),
    () => ({ label: 'no content-type', chunks: head(['Accept: application/json, text/event-stream', `Mcp-Session-Id: ${sid}`]) }),
    () => ({ label: 'accept', chunks: head(['Content-Type: application/json', rng.pick(['Accept: text/html', 'Accept: application/json', 'Accept: */*', 'Accept: ', 'Accept: text/event-stream']), `Mcp-Session-Id: ${sid}`]) }),
    () => ({ label: 'chunked body that stops', chunks: [`POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n${std.join('\r\n')}\r\nMcp-Session-Id: ${sid}\r\nTransfer-Encoding: chunked\r\n\r\n`, `20\r\n{"jsonrpc":"2.0","id":9,"method"`], ms: 300 }),
    () => ({ label: 'chunked body over the limit', chunks: [`POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n${std.join('\r\n')}\r\nMcp-Session-Id: ${sid}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, ...Array.from({ length: 5 }, () => `4000\r\n${'x'.repeat(0x4000)}\r\n`), '0\r\n\r\n'] }),
    () => ({ label: 'content-length over the limit', chunks: head([...std, `Mcp-Session-Id: ${sid}`], 'x'.repeat(MAX_BODY + 10)) }),
    () => ({ label: 'content-length that lies', chunks: head([...std, `Mcp-Session-Id: ${sid}`], ping, rng.pick([ping.length + 50, 5, MAX_BODY * 4])), ms: 400 }),
    () => ({ label: 'header injection', chunks: head([...std, rng.pick([`X-A: b\r\nMcp-Session-Id: ${sid}`, `X-A: b\nMcp-Session-Id: x`, `X-A: b\rInjected: 1`, 'X-A: \u0000', ` folded: obs-fold`, `Mcp-Session-Id: ${sid}\r\nMcp-Session-Id: other`, 'Content-Length: 3', `Authorization: Bearer ${token}`, 'Transfer-Encoding: chunked'])]) }),
    () => ({ label: 'session id shape', chunks: head([...std, `Mcp-Session-Id: ${rng.pick(['', ' ', 'x'.repeat(8000), '../../etc/passwd', `${sid} `, `${sid},${sid}`, '\u00e9\u00e9', sid.toUpperCase(), '%00', '{"a":1}'])}`]) }),
    () => ({ label: 'protocol version', chunks: head([...std, `Mcp-Session-Id: ${sid}`, `Mcp-Protocol-Version: ${rng.pick(['1999-01-01', '', 'x'.repeat(300), '2026-07-28', '2025-11-25\u0000'])}`]) }),
    () => ({ label: 'method', chunks: [`${rng.pick(['PUT', 'PATCH', 'OPTIONS', 'TRACE', 'GET', 'DELETE', 'HEAD'])} /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nAccept: application/json\r\nMcp-Session-Id: no-such\r\nConnection: close\r\n\r\n`] }),
    () => ({ label: 'authorization', chunks: head([...std, `Mcp-Session-Id: ${sid}`, rng.pick(['Authorization: Bearer', 'Authorization: Basic eDp4', `Authorization: Bearer ${token}x`, 'Authorization: Bearer a b c'])]) }),
    () => ({ label: 'path', chunks: head([...std]).map((c, k) => (k === 0 ? String(c).replace('POST /mcp ', `POST ${rng.pick(['/mcp/', '/MCP', '/mcp?x=1', '//mcp', '/mcp%00', '/mcp/../mcp'])} `) : c)) }),
  ];
  return Array.from({ length: n }, (_, i) => gens[i % gens.length]!());
}

async function openSession(token: string): Promise<{ sid: string; post(body: string | Buffer, withSession?: boolean): Promise<{ status: number; body: string }> }> {
  const init = await rawRequest(w.url, { headers: mcpHeaders(token), body: initializeBody() });
  assert.equal(init.status, 200, init.body);
  const sid = String(init.headers['mcp-session-id']);
  const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
  await rawRequest(w.url, { headers: mcpHeaders(token, h), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return { sid, post: (body, withSession = true) => rawRequest(w.url, { headers: mcpHeaders(token, withSession ? h : {}), body }) };
}

test(`seeded HTTP fuzz (seed ${SEED}): bodies in and out of a session, raw HTTP; served, coded, and the chain verifies`, async () => {
  const token = await w.token('alice', ['sre']);
  const s = await openSession(token);
  const probe = async (after: string) => {
    const r = await s.post(JSON.stringify({ jsonrpc: '2.0', id: 'probe', method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'analytics', sql: 'SELECT id FROM orders WHERE id = 3' } } }));
    const m = message(r.body);
    assert.equal(r.status, 200, `${after}: ${r.body.slice(0, 300)}`);
    assert.deepEqual(m?.result?.structuredContent?.rows, [[3]], `${after}: ${r.body.slice(0, 300)}`);
  };
  const bad = new Set<string>();
  const check = (status: number, body: string, label: string) => {
    try {
      checkAnswer(status, body, token, label);
    } catch (e) {
      bad.add((e as Error).message.slice(0, 300));
    }
  };
  for (const [i, c] of fuzzCorpus(SEED, CASES, 'analytics', 'SELECT id FROM orders WHERE id = 1', MAX_BODY).entries()) {
    const inSession = await s.post(c.bytes);
    check(inSession.status, inSession.body, `in session: ${c.label}`);
    if (i % 2 === 0) {
      const alone = await s.post(c.bytes, false);
      check(alone.status, alone.body, `no session: ${c.label}`);
    }
    await probe(`case ${i} (${c.label})`);
  }
  for (const [i, c] of httpCases(token, s.sid, 91).entries()) {
    const r = await rawSocket(c.chunks, c.ms);
    check(r.status, r.body, `raw ${i}: ${c.label}`);
    await probe(`raw case ${i} (${c.label})`);
  }
  assert.deepEqual([...bad], [], 'every answer passes the oracle');
  const v = spawn(process.execPath, [WARDEN_BIN, 'transcripts', 'verify', '--config', w.dir.configPath], { env: { ...process.env, WARDEN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  v.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  v.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  assert.equal(await new Promise((r) => v.on('close', r)), 0, `transcripts verify: ${out}`);
});
