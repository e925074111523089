/**
 * Open connections on the HTTP listener are capped (http.max_connections, default 1024), over real
 * sockets: a client that opens many connections and trickles a request's headers (slowloris)
 * holds at most the cap; each one more is answered 503 WARDEN_UNAVAILABLE at once and closed, and
 * the process's open file descriptors stop growing. Why: nothing bounded them, so one
 * unauthenticated client could hold any number of sockets (each a file descriptor) for the
 * headers timeout and again, until the process hit its descriptor limit and could no longer open
 * a backend connection or its transcript store, and every other client was denied.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { analystsReadPolicy, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';

const POLICY = analystsReadPolicy(['public.users']);

/** Open file descriptors of this process (the server runs in it). */
const fds = () => readdirSync('/proc/self/fd').length;

/** A slowloris connection: a request line and one header, then nothing; what the server sends back. */
function trickle(url: string): { sock: Socket; got: () => string; closed: () => boolean } {
  const u = new URL(url);
  const sock = connect(Number(u.port), u.hostname);
  let got = '';
  let closed = false;
  sock.on('data', (d) => (got += d.toString('latin1')));
  sock.on('error', () => undefined);
  sock.on('close', () => (closed = true));
  sock.write(`POST /mcp HTTP/1.1\r\nHost: ${u.host}\r\n`);
  return { sock, got: () => got, closed: () => closed };
}

describe('HTTP open connections cap', () => {
  let w: HttpWarden;
  before(async () => {
    w = await startHttpWarden({ 'base.yaml': POLICY });
  });
  after(() => w?.stop());

  test('the default cap (1024): trickled connections beyond it are refused 503 at once, descriptors stay bounded', async () => {
    const DEFAULT = 1024;
    const EXTRA = 76;
    const before = fds();
    const held: ReturnType<typeof trickle>[] = [];
    try {
      for (let i = 0; i < DEFAULT + EXTRA; i++) {
        held.push(trickle(w.url));
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
      }
      // Everything over the cap is answered and closed; nothing under it is (slowloris holds its socket until the headers timeout).
      await until(() => held.filter((h) => h.closed()).length >= EXTRA, 5000, `the ${EXTRA} connections over the cap to be refused`);
      await new Promise((r) => setTimeout(r, 300));
      const refused = held.filter((h) => h.closed());
      assert.equal(refused.length, EXTRA, 'exactly the connections over the cap are closed');
      for (const r of refused) {
        assert.match(r.got(), /^HTTP\/1\.1 503 /, r.got());
        assert.match(r.got(), /\r\nretry-after: \d+\r\n/i);
        assert.match(r.got(), /\r\nx-content-type-options: nosniff\r\n/i, 'the refusal carries the baseline headers');
        assert.match(r.got(), /WARDEN_UNAVAILABLE: this server holds as many open connections as it may \(1024, http\.max_connections\)/);
      }
      // Both ends of each held connection are in this process: the server's end holds at most the cap.
      const grown = fds() - before;
      assert.ok(grown <= DEFAULT * 2 + 64, `descriptors grew by ${grown}, more than the cap allows`);
      // A new client is refused too while the cap is held (coded, not a hang).
      const late = await rawRequest(w.url, { method: 'GET', path: '/healthz' });
      assert.equal(late.status, 503, late.body);
    } finally {
      held.forEach((h) => h.sock.destroy());
    }
    // Once they are gone, the server serves again.
    await until(async () => (await rawRequest(w.url, { method: 'GET', path: '/healthz' })).status === 200, 5000, 'the server to serve again');
  });
});

describe('HTTP headers timeout', () => {
  let w: HttpWarden;
  before(async () => {
    w = await startHttpWarden({ 'base.yaml': POLICY });
  });
  after(() => w?.stop());

  test('a connection that trickles its headers is closed (408) soon after the 10 s headers timeout, not up to 30 s later', async () => {
    const start = Date.now();
    const slow = trickle(w.url);
    try {
      await until(() => slow.closed(), 16_000, 'the trickled connection to be closed');
      const took = Date.now() - start;
      assert.ok(took >= 9_000, `closed after ${took} ms, before the headers timeout`);
      assert.match(slow.got(), /^HTTP\/1\.1 408 /, slow.got());
    } finally {
      slow.sock.destroy();
    }
  });
});
