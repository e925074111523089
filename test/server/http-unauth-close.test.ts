/**
 * A request refused for want of a valid token gets its 401 and then loses its connection: its
 * body, which may never finish (a slow-loris), is not read, and the socket does not stay open
 * until the request timeout holding the listener's resources for nobody.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';

let w: HttpWarden;

before(async () => {
  w = await startHttpWarden({ 'p.yaml': 'rules: []\n' });
});

after(async () => {
  await w?.stop();
});

test('an unauthenticated POST with a body that never finishes gets 401 and its connection closed at once', async () => {
  const url = new URL(`${w.url}/mcp`);
  const sock = connect(Number(url.port), url.hostname);
  let answer = '';
  sock.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now())));
  await new Promise<void>((resolve) => sock.on('connect', () => resolve()));
  const t0 = Date.now();
  // 1 MB announced, 10 bytes sent, the rest never comes.
  sock.write(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000000\r\n\r\n{"jsonrpc"`);
  const timer = setTimeout(() => sock.destroy(), 10_000);
  const at = await closed;
  clearTimeout(timer);
  assert.match(answer, /^HTTP\/1\.1 401 /, answer.slice(0, 200));
  assert.match(answer, /\r\nconnection: close\r\n/i, 'the 401 says the connection closes');
  assert.ok(at - t0 < 5_000, `the server closed the connection ${at - t0} ms after the request, not at its request timeout`);
});
