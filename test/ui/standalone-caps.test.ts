/**
 * `warden demo --serve` serves the reviewer UI on a listener of its own (startStandaloneUi, called
 * by demo.ts exactly as here: no limits given), which took none of the caps of `serve --http`'s:
 * any number of open connections, and a trickled request held its socket for Node's defaults. It
 * now uses the same listener (http.max_connections' default, 1024, and the headers timeout): one
 * connection more is answered 503 WARDEN_UNAVAILABLE at once and closed. In process rather than a
 * spawned demo: the demo's start (its database, seed and calls) took over a minute under the
 * suite's load, and what is under test is the listener it binds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { rawRequest } from '../support/http-agent.js';
import { until } from '../support/http-warden.js';

/** A slowloris connection: a request line and one header, then nothing. */
function trickle(port: number): { sock: Socket; got: () => string; closed: () => boolean } {
  const sock = connect(port, '127.0.0.1');
  let got = '';
  let closed = false;
  sock.on('data', (d) => (got += d.toString('latin1')));
  sock.on('error', () => undefined);
  sock.on('close', () => (closed = true));
  sock.write(`GET /ui/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
  return { sock, got: () => got, closed: () => closed };
}

test('the standalone reviewer UI (warden demo --serve) caps open connections like serve --http', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-caps-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  const held: ReturnType<typeof trickle>[] = [];
  t.after(async () => {
    held.forEach((h) => h.sock.destroy());
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = ui.url;
  const port = Number(new URL(url).port);
  const CAP = 1024;
  const EXTRA = 16;
  for (let i = 0; i < CAP + EXTRA; i++) {
    held.push(trickle(port));
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
  }
  await until(() => held.filter((h) => h.closed()).length >= EXTRA, 10_000, `the ${EXTRA} connections over the cap to be refused`);
  const refused = held.filter((h) => h.closed());
  assert.ok(refused.length >= EXTRA && refused.length < CAP, `${refused.length} refused`);
  for (const r of refused) assert.match(r.got(), /^HTTP\/1\.1 503 [\s\S]*WARDEN_UNAVAILABLE: this server holds as many open connections as it may \(1024/, r.got());
  held.forEach((h) => h.sock.destroy());
  await until(async () => (await rawRequest(`http://127.0.0.1:${port}`, { method: 'GET', path: '/ui/' })).status !== 503, 10_000, 'the UI to serve again');
});
