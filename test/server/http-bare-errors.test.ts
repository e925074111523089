/**
 * The replies Node's HTTP parser writes by itself (a request line it cannot parse, headers over
 * its size limit, headers that never finish within the request timeout) carry the baseline
 * security headers on both of Warden's listeners, the MCP endpoint's and the standalone UI's.
 * Without a 'clientError' listener Node writes a bare `HTTP/1.1 400 Bad Request` with none of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASELINE_HEADERS } from '../../src/http-headers.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { startHttpWarden } from '../support/http-warden.js';

/** Write raw bytes, read until the server closes (or ms pass), return the status line and headers. */
function raw(port: number, bytes: string, ms = 8000): Promise<{ status: string; headers: Map<string, string> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply within ${ms} ms: ${JSON.stringify(got)}`));
    }, ms);
    sock.on('data', (d) => (got += d.toString('latin1')));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      const [head = ''] = got.split('\r\n\r\n');
      const [status = '', ...lines] = head.split('\r\n');
      resolve({ status, headers: new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()])) });
    });
    sock.write(bytes);
  });
}

function assertBaseline(out: { status: string; headers: Map<string, string> }, status: string): void {
  assert.equal(out.status, `HTTP/1.1 ${status}`);
  for (const [k, v] of Object.entries(BASELINE_HEADERS)) assert.equal(out.headers.get(k.toLowerCase()), v, `${status}: ${k}`);
  assert.equal(out.headers.get('connection'), 'close');
}

const BIG = `GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`;

test('the MCP listener: 400, 431 and 408 written by Node carry the baseline headers', async (t) => {
  const w = await startHttpWarden({}, 'http: { request_timeout: 1s }');
  t.after(() => w.stop());
  const port = Number(new URL(w.url).port);
  assertBaseline(await raw(port, 'NOT HTTP AT ALL\r\n\r\n'), '400 Bad Request');
  assertBaseline(await raw(port, BIG), '431 Request Header Fields Too Large');
  // Headers started and never finished: Node's headers timeout (here the 1s request timeout).
  assertBaseline(await raw(port, 'GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n'), '408 Request Timeout');
  // A request Node parses still reaches Warden's own routes, which set the same headers.
  const ok = await raw(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.match(ok.status, /^HTTP\/1\.1 \d{3} /);
  assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
});

test('the standalone UI listener: a request line Node cannot parse gets the baseline headers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bare-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = Number(new URL(ui.url).port);
  assertBaseline(await raw(port, 'GET / HTTP/1.1\r\nBad Header Line\r\n\r\n'), '400 Bad Request');
  assertBaseline(await raw(port, BIG), '431 Request Header Fields Too Large');
});
