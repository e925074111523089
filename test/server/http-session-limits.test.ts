/**
 * Stateful HTTP sessions are capped per principal and in all: one principal opening many sessions
 * only ever closes its own oldest, and a full server refuses a new session (503) rather than
 * close another principal's. A review found one principal evicting everyone with 10,000 opens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSessionRegistry } from '../../src/server/http-sessions.js';
import type { ServeDeps } from '../../src/server/mcp-server.js';
import type { Principal } from '../../src/tool-api.js';

const deps = {
  pipeline: { listTools: () => [], handle: async () => { throw new Error('not used'); }, stages: [] },
  store: { openSession: async () => undefined, closeSession: async () => undefined },
  version: '0',
  structuredContent: false,
  log: () => undefined,
} as unknown as ServeDeps;

const principal = (subject: string): Principal => ({ subject, groups: [], claims: {}, authMethod: 'oidc' });
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

test('per-principal cap closes only the caller\'s own oldest session; a full server answers 503', async (t) => {
  const registry = createSessionRegistry(deps, { maxBodyBytes: 1 << 20, max: 4, perPrincipal: 2 });
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => void registry.open(req, res, JSON.parse(raw), principal(String(req.headers['x-sub']))));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(async () => {
    await registry.closeAll();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
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
