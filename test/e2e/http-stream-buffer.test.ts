/**
 * SSE back-pressure over real HTTP: a client (a raw socket) that asks for a tool call answered
 * over SSE and never reads its response is cut off once it has taken nothing of it for
 * http.request_timeout (the answer is under the byte bound, which the server raises above the
 * largest answer a tool may give); the close is logged and the request slot is freed. Why:
 * before, Warden kept a non-reading client's response in memory, and its slot, for as long as the
 * socket stayed open (the request timeout ends only requests still being received).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { analystsReadPolicy, initializeBody, mcpHeaders, pingUnknownSession, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';
import { setLogLevel } from '../../src/server/log.js';

const POLICY = analystsReadPolicy(['public.big']);

/** Rows x bytes of the result (10 MB, twice over with structured content): far more than loopback socket buffers take from a client that does not read. */
const ROWS = 400;
const WIDTH = 25_000;

/** A quick request in a session that does not exist (http-agent.ts pingUnknownSession). */
const probe = (w: HttpWarden, token: string) => pingUnknownSession(w.url, token);

/** Send a raw HTTP POST on a socket and read nothing from it (no 'data' listener: the socket stays paused). */
function stalledPost(base: string, headers: Record<string, string>, body: string): Promise<Socket> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port) }, () => {
      const head = Object.entries({ ...headers, host: u.host, 'content-length': String(Buffer.byteLength(body)) }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      s.write(`POST /mcp HTTP/1.1\r\n${head}\r\n${body}`);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Read what is left on a socket until the server's side is gone; the bytes received. */
function drain(s: Socket): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('error', () => undefined);
    s.once('close', () => resolve(n));
    s.resume();
  });
}

describe('HTTP SSE back-pressure', () => {
  let w: HttpWarden;
  before(async () => {
    w = await startHttpWarden({ 'base.yaml': POLICY }, 'limits: { max_result_bytes: 67108864 }\nhttp: { max_stream_buffer: 65536, max_requests_per_principal: 1, request_timeout: 2s }', {
      connection: 'max_bytes: 33554432',
    });
    await w.db.query(`CREATE TABLE big AS SELECT g AS id, repeat('x', ${WIDTH}) AS pad FROM generate_series(1, ${ROWS}) g`);
    await w.db.query(`GRANT SELECT ON big TO ${w.db.role}`);
  });
  after(() => w?.stop());

  test('a client that never reads its SSE answer is closed once it took nothing of it for http.request_timeout; the close is logged and its slot freed', async () => {
    const alice = await w.token('alice', ['analysts']);
    const init = await rawRequest(w.url, { headers: mcpHeaders(alice), body: initializeBody() });
    assert.equal(init.status, 200, init.body);
    const sid = String(init.headers['mcp-session-id']);
    const session = mcpHeaders(alice, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    await rawRequest(w.url, { headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });

    let logs = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      logs += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    setLogLevel('warn');
    let sock: Socket | undefined;
    try {
      const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'analytics', sql: 'SELECT id, pad FROM big' } } };
      sock = await stalledPost(w.url, session, JSON.stringify(call));
      // The stalled call holds alice's one slot (429 for anything else of hers); once Warden has closed it, the slot is back.
      await until(async () => (await probe(w, alice)).status === 429, 10_000, 'the stalled call to hold alice\'s slot');
      await until(async () => (await probe(w, alice)).status === 404, 20_000, 'the stalled response to be closed and its slot freed');
      await until(() => logs.includes('http stream closed'), 5000, 'the close to be logged');
    } finally {
      setLogLevel('silent');
      process.stderr.write = write;
    }
    const line = logs.split('\n').find((l) => l.includes('http stream closed'))!;
    assert.match(line, /"subject":"alice"/);
    assert.match(line, /took nothing of its answer/);
    assert.match(line, /"stalled_ms":2000/);
    assert.ok(!line.includes(alice), 'the token is in no log line');
    // What the client still gets is a cut-off stream: far less than the result it asked for.
    const received = await drain(sock!);
    assert.ok(received < ROWS * WIDTH, `the response was cut off (${received} bytes received)`);
  });
});
