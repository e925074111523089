/**
 * `warden demo --serve` serves the reviewer UI on a listener of its own, which took none of the
 * caps of `serve --http`'s: any number of open connections, and a trickled request held its socket
 * for Node's defaults. It now uses the same listener (http.max_connections' default, 1024, and
 * the headers timeout): one connection more is answered 503 WARDEN_UNAVAILABLE at once and closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { WARDEN_BIN } from '../support/repo.js';
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

test('warden demo --serve: the UI listener caps open connections like serve --http', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-demo-caps-'));
  const child = spawn(process.execPath, [WARDEN_BIN, 'demo', '--serve', '--config', join(dir, 'demo.yaml')], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const held: ReturnType<typeof trickle>[] = [];
  t.after(async () => {
    held.forEach((h) => h.sock.destroy());
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await until(() => /Reviewer UI: (\S+)/.test(out) || child.exitCode !== null, 60_000, 'the demo to serve');
  const url = /Reviewer UI: (\S+)/.exec(out)?.[1];
  assert.ok(url, out);
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
