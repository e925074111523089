/**
 * Stateful HTTP sessions are capped per principal and in all: one principal opening many sessions
 * only ever closes its own oldest, and a full server refuses a new session (503) rather than
 * close another principal's. A review found one principal evicting everyone with 10,000 opens.
 * Sessions are also capped per issuer and subject, so a subject whose tokens vary a claim per
 * login (Keycloak session_state, a CI run_id), i.e. many principals, cannot fill the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createSessionRegistry } from '../../src/server/http-sessions.js';
import { listenForRegistry, SESSION_ONLY_DEPS } from '../support/http-warden.js';
import type { Principal } from '../../src/tool-api.js';

const deps = SESSION_ONLY_DEPS;

const principal = (subject: string): Principal => ({ subject, groups: [], claims: {}, authMethod: 'oidc' });
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

test('per-principal cap closes only the caller\'s own oldest session; a full server answers 503', async (t) => {
  const registry = createSessionRegistry(deps, { maxBodyBytes: 1 << 20, max: 4, perPrincipal: 2 });
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => void registry.open(req, res, JSON.parse(raw), principal(String(req.headers['x-sub']))));
  });
  const url = await listenForRegistry(t, server, registry);
  const open = (sub: string) =>
    fetch(url, { method: 'POST', headers: { 'x-sub': sub, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(INIT) });

  for (const sub of ['bob', 'bob']) assert.equal((await open(sub)).status, 200);
  assert.equal(registry.size(), 2);
  for (let i = 0; i < 5; i++) assert.equal((await open('alice')).status, 200, 'alice may keep opening: her own oldest goes');
  assert.equal(registry.size(), 4, 'bob 2 + alice 2: alice never closed bob\'s sessions');
  const full = await open('carol');
  assert.equal(full.status, 503, 'full: refused, nobody evicted');
  assert.match(await full.text(), /retry later/);
  assert.equal(registry.size(), 4);
});

test('a subject whose claims vary per login is capped as one: further sessions are refused, none closed', async (t) => {
  const registry = createSessionRegistry(deps, { maxBodyBytes: 1 << 20, max: 100, perPrincipal: 2 });
  const who = (sub: string, run: string, iss = 'https://idp.test'): Principal => ({ subject: sub, groups: ['ci'], claims: { iss, run_id: run }, authMethod: 'oidc' });
  // Requests marked x-burst are held until six have arrived, then opened in one tick (a worst-case race).
  const held: (() => void)[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const go = () => void registry.open(req, res, JSON.parse(raw), who(String(req.headers['x-sub']), String(req.headers['x-run']), String(req.headers['x-iss'] ?? 'https://idp.test')));
      if (!req.headers['x-burst']) return go();
      held.push(go);
      if (held.length === 6) held.splice(0).forEach((f) => f());
    });
  });
  const url = await listenForRegistry(t, server, registry);
  const open = (sub: string, run: string, extra: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'x-sub': sub, 'x-run': run, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra }, body: JSON.stringify(INIT) });

  assert.equal((await open('ci', '1')).status, 200);
  assert.equal((await open('ci', '2')).status, 200);
  for (const run of ['3', '4', '1']) {
    const r = await open('ci', run);
    assert.equal(r.status, 429, `run ${run}: the subject holds as many sessions as one principal may`);
    const body = (await r.json()) as { error: { message: string } };
    assert.match(body.error.message, /^WARDEN_RATE_LIMITED: /);
    assert.equal(registry.size(), 2, 'refused, and no session was closed for it');
  }
  assert.equal((await open('other', '1')).status, 200, 'another subject is not affected');
  assert.equal((await open('ci', '9', { 'x-iss': 'https://other-idp.test' })).status, 200, 'the same subject at another issuer is another subject');
  assert.equal(registry.size(), 4);
  // A burst of concurrent logins cannot overshoot the cap between its check and registration.
  const burst = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((run) => open('burst', run, { 'x-burst': '1' })));
  assert.deepEqual(burst.map((r) => r.status).sort(), [200, 200, 429, 429, 429, 429]);
  assert.equal(registry.size(), 6);
});
