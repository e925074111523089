/**
 * The per-principal caps alone (createPrincipalLimits) behind a plain node:http server: a client
 * that leaves while its request is being authenticated holds no slot (its response's 'close' has
 * already fired, so a slot taken then would never come back), and refusals are logged once per
 * burst, by issuer and subject. The caps over the real listener: test/e2e/http-principal-limits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrincipalLimits, REPLY_SLOTS } from '../../src/server/http-limits.js';
import { until } from '../support/http-warden.js';
import type { Principal } from '../../src/tool-api.js';

const who = (sub: string, extra: Record<string, unknown> = {}): Principal => ({ subject: sub, groups: [], claims: { iss: 'https://idp.test', ...extra }, authMethod: 'oidc' });

test('a client gone during authentication holds no slot; refusals are logged once per burst', async (t) => {
  const lines: { msg: string; data?: Record<string, unknown> }[] = [];
  const limits = createPrincipalLimits({ maxRequests: 1, maxStreams: 1, log: (_l, msg, data) => void lines.push({ msg, ...(data ? { data } : {}) }) });
  const outcomes: string[] = [];
  let slowSeen = false;
  const server = createServer((req, res) => {
    // "Authentication" takes 200 ms for requests marked slow-auth: long enough for the client to leave.
    const go = () => {
      const ok = limits.admit(req, res, who(String(req.headers['x-sub']), { run: req.headers['x-run'] }));
      outcomes.push(ok ? 'admitted' : res.closed ? 'gone' : 'refused');
      if (ok && !req.headers['x-hold']) res.end('ok');
    };
    if (req.headers['x-slow-auth']) {
      slowSeen = true;
      setTimeout(go, 200);
    }
    else go();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const send = (headers: Record<string, string>) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers });
    const status = new Promise<number>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
    });
    req.write('x');
    return { req, status };
  };

  const gone = send({ 'x-sub': 'alice', 'x-slow-auth': '1', 'content-length': '10' });
  // The client leaves once the server has its request (a fixed delay could fire first on a loaded machine, and then no request ever arrived).
  await until(() => slowSeen, 2000, 'the server to receive the slow request');
  gone.req.destroy();
  await until(() => outcomes.length === 1, 2000, 'the late admission');
  assert.deepEqual(outcomes, ['gone']);
  assert.deepEqual(limits.held(), { requests: 0, streams: 0 }, 'nothing is held for a client that left');

  const holder = send({ 'x-sub': 'alice', 'x-hold': '1', 'content-length': '10' });
  await until(() => limits.held(who('alice')).requests === 1, 2000, 'alice to hold her slot');
  const refused = await Promise.all(['1', '2', '3'].map((run) => send({ 'x-sub': 'alice', 'x-run': run, 'content-length': '1' }).status));
  assert.deepEqual(refused, [429, 429, 429], 'the same issuer and subject, whatever its other claims');
  assert.equal(await send({ 'x-sub': 'bob', 'content-length': '1' }).status, 200, 'another subject is served');
  const logged = lines.filter((l) => l.msg.includes('refused'));
  assert.equal(logged.length, 1, JSON.stringify(lines));
  assert.deepEqual({ subject: logged[0]!.data!.subject, issuer: logged[0]!.data!.issuer, limit: logged[0]!.data!.limit, kind: logged[0]!.data!.kind }, { subject: 'alice', issuer: 'https://idp.test', limit: 1, kind: 'requests' });
  holder.req.destroy();
  await until(() => limits.held().requests === 0, 2000, 'the aborted request to free its slot');
});

test('past the request cap a POST takes a reply-only slot (at most REPLY_SLOTS per identity); its body decides', async (t) => {
  const limits = createPrincipalLimits({ maxRequests: 1, maxStreams: 1, log: () => undefined });
  const admissions: string[] = [];
  const server = createServer((req, res) => {
    const a = limits.admitPost(req, res, who('alice'));
    admissions.push(String(a));
    if (a === false) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString().trim();
      // A request in a reply-only slot gets the cap's refusal (or a slot come free meanwhile).
      if (a === 'replies-only' && body === 'request' && !limits.admitRequest(req, res, who('alice'))) return;
      res.end('served');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const open = (body?: string) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'content-length': '100' } });
    const status = new Promise<number>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
    });
    if (body !== undefined) req.end(body.padEnd(100, ' '));
    else req.write('x');
    return { req, status };
  };
  const holder = open();
  await until(() => admissions.length === 1, 2000, 'the first POST');
  // Slow bodies past the cap: REPLY_SLOTS of them are read, one more is refused at once.
  const slow = Array.from({ length: REPLY_SLOTS }, () => open());
  await until(() => admissions.length === 1 + REPLY_SLOTS, 2000, 'the reply-only POSTs');
  assert.deepEqual(admissions.slice(1), Array(REPLY_SLOTS).fill('replies-only'));
  assert.equal(await open().status, 429, 'no more than REPLY_SLOTS reply-only POSTs per identity');
  slow.forEach((s) => s.req.destroy());
  await until(() => admissions.length === 2 + REPLY_SLOTS, 2000, 'the refusal');
  // A notification is served in a reply-only slot; a request is refused there.
  assert.equal(await open('notification').status, 200);
  assert.equal(await open('request').status, 429);
  holder.req.destroy();
  await until(() => limits.held().requests === 0, 2000, 'the holder to free its slot');
  assert.equal(await open('request').status, 200);
});
