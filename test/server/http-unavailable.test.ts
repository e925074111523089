/**
 * The two 503 answers of /mcp carry a code a client can match (WARDEN_UNAVAILABLE, in the
 * JSON-RPC error) and a Retry-After: a server that holds as many sessions as it may, and one
 * that is shutting down (a request that arrives on a connection still open when close() began).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { createSessionRegistry } from '../../src/server/http-sessions.js';
import { initializeBody } from '../support/http-agent.js';
import { listenForRegistry, SESSION_ONLY_DEPS, startHttpWarden } from '../support/http-warden.js';

const deps = SESSION_ONLY_DEPS;

test('a full server refuses a new session with 503, WARDEN_UNAVAILABLE and Retry-After', async (t) => {
  const registry = createSessionRegistry(deps, { maxBodyBytes: 1 << 20, max: 1 });
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => void registry.open(req, res, JSON.parse(raw), { subject: String(req.headers['x-sub']), groups: [], claims: {}, authMethod: 'oidc' }));
  });
  const url = await listenForRegistry(t, server, registry);
  const open = (sub: string) => fetch(url, { method: 'POST', headers: { 'x-sub': sub, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: initializeBody() });
  assert.equal((await open('bob')).status, 200);
  const full = await open('carol');
  assert.equal(full.status, 503);
  assert.ok(Number(full.headers.get('retry-after')) > 0, 'Retry-After');
  const body = (await full.json()) as { error: { code: number; message: string } };
  assert.match(body.error.message, /^WARDEN_UNAVAILABLE: /);
});

test('a request that arrives while the server shuts down gets 503, WARDEN_UNAVAILABLE and Retry-After', async (t) => {
  const w = await startHttpWarden({ 'p.yaml': 'rules: []\n' });
  let closing: Promise<void> | undefined;
  t.after(async () => {
    await closing?.catch(() => undefined);
    await w.stop();
  });
  const token = await w.token('ana', ['analysts']);
  const u = new URL(w.url);
  const sock = connect(Number(u.port), u.hostname);
  let raw = '';
  sock.on('data', (d: Buffer) => (raw += d.toString()));
  const ended = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const head = (method: string, length: number) =>
    `${method} /mcp HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${length}\r\n\r\n`;
  // A POST whose body is still on its way keeps the connection busy while close() begins.
  const body = initializeBody();
  sock.write(head('POST', body.length));
  await new Promise((r) => setTimeout(r, 300));
  closing = w.http.close();
  await new Promise((r) => setTimeout(r, 100));
  // Its body, then a second request on the same connection: that one arrives after close() began.
  sock.write(body + head('POST', body.length) + body);
  await Promise.race([ended, new Promise((r) => setTimeout(r, 5000))]);
  sock.destroy();
  const statuses = [...raw.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 503], raw.slice(0, 2000));
  const second = raw.slice(raw.lastIndexOf('HTTP/1.1 503'));
  assert.match(second, /\r\nretry-after: \d+\r\n/i);
  const json = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/gi, '')) as { error: { message: string } };
  assert.match(json.error.message, /^WARDEN_UNAVAILABLE: /);
});
