/**
 * The small pieces around the HTTP server: the --http address parser, the Host/Origin policy
 * defaults, the session fingerprint, and policy-watch on SIGHUP with a real runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseListen } from '../../src/server/http-serve.js';
import { hostPolicy, isLoopback } from '../../src/server/http-origins.js';
import { principalFingerprint } from '../../src/server/http-sessions.js';
import { watchPolicies } from '../../src/server/policy-watch.js';
import { startRuntime } from '../../src/server/runtime.js';
import { families } from '../../tools/index.js';
import { writeWardenDir } from '../support/warden-process.js';

test('--http addresses parse, default to loopback and refuse garbage', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen(':9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseListen('9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseListen('[::1]:8443'), { host: '::1', port: 8443 });
  assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  for (const bad of ['', 'host', 'a:b', '1.2.3.4:99999', 'x:1:2']) assert.throws(() => parseListen(bad), /WARDEN_CONFIG|HOST:PORT/, bad);
});

test('Host/Origin defaults: localhost names only when bound to loopback', () => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.5'));
  const lo = hostPolicy('127.0.0.1', 8080, { allowed_hosts: [], allowed_origins: [] }, 'https://warden.example.com/mcp');
  assert.ok(lo.hosts.includes('localhost') && lo.hosts.includes('warden.example.com'));
  const wide = hostPolicy('0.0.0.0', 8080, { allowed_hosts: ['mcp.internal'], allowed_origins: ['https://ui.internal'] }, 'urn:warden');
  assert.deepEqual(wide.hosts, ['mcp.internal']);
  assert.deepEqual(wide.origins, ['https://ui.internal'], 'origins are full origins (origin-ports.test.ts has the details)');
});

test('a session fingerprint changes with the subject, issuer, groups or string claims, not with group order', () => {
  const p = { subject: 'ana', groups: ['a', 'b'], claims: { iss: 'https://idp' }, authMethod: 'oidc' as const };
  assert.equal(principalFingerprint(p), principalFingerprint({ ...p, groups: ['b', 'a'] }));
  assert.notEqual(principalFingerprint(p), principalFingerprint({ ...p, subject: 'bob' }));
  assert.notEqual(principalFingerprint(p), principalFingerprint({ ...p, groups: ['a'] }));
  assert.notEqual(principalFingerprint(p), principalFingerprint({ ...p, claims: { iss: 'https://evil' } }));
  // who.claims rules read string claims, so another value (or one more) is another principal.
  const ci = { ...p, claims: { iss: 'https://idp', repository: 'acme/shop', groups: ['a', 'b'] } };
  assert.notEqual(principalFingerprint(ci), principalFingerprint({ ...ci, claims: { ...ci.claims, repository: 'acme/other' } }));
  assert.notEqual(principalFingerprint(p), principalFingerprint({ ...p, claims: { ...p.claims, environment: 'prod' } }));
  assert.equal(principalFingerprint(ci), principalFingerprint({ ...ci, claims: { repository: 'acme/shop', groups: ['b', 'a'], iss: 'https://idp' } }), 'not with key or array order');
  // Deny rules judge list and number claims too (policy/who.ts): a token with other roles is another principal.
  const roles = { ...p, claims: { iss: 'https://idp', roles: ['dev'], level: 2 } };
  assert.notEqual(principalFingerprint(roles), principalFingerprint({ ...roles, claims: { ...roles.claims, roles: ['dev', 'contractor'] } }));
  assert.notEqual(principalFingerprint(roles), principalFingerprint({ ...roles, claims: { ...roles.claims, level: 3 } }));
  // An allow's claims: match a string only, so the same value as a list or a number is another principal.
  assert.notEqual(principalFingerprint(ci), principalFingerprint({ ...ci, claims: { ...ci.claims, repository: ['acme/shop'] } }));
  assert.notEqual(principalFingerprint(roles), principalFingerprint({ ...roles, claims: { ...roles.claims, level: '2' } }));
  // Claims that hold no value are one: absent, null, an empty list.
  assert.equal(principalFingerprint(p), principalFingerprint({ ...p, claims: { ...p.claims, extra: null, more: [] } }));
});

/** Resolve once `cond` holds, or after `ms` (the assertions that follow then say what did not happen). */
async function until(cond: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
}

test('SIGHUP reloads the policy; a broken file keeps the old one and logs why', async () => {
  const dir = writeWardenDir('transcripts: { store: sqlite:warden.db }\npolicies: [policies/*.yaml]\n', { 'a.yaml': 'rules: []\n' });
  const rt = await startRuntime(dir.configPath, families);
  const logs: { msg: string; data?: Record<string, unknown> }[] = [];
  const stop = watchPolicies(rt, (_l, msg, data) => logs.push({ msg, ...(data ? { data } : {}) }), { debounceMs: 10_000 });
  try {
    const v0 = rt.policy().version;
    writeFileSync(join(dir.dir, 'policies', 'a.yaml'), 'rules:\n  - { id: r1, effect: deny, tool: query_database }\n');
    process.kill(process.pid, 'SIGHUP');
    // Polled, well inside the 10 s debounce: a loaded machine may take longer than a fixed pause.
    await until(() => rt.policy().version !== v0, 5000);
    const v1 = rt.policy().version;
    assert.notEqual(v1, v0, 'SIGHUP reloaded without waiting for the debounce');
    assert.equal(rt.policy().rules[0]?.id, 'r1');
    writeFileSync(join(dir.dir, 'policies', 'a.yaml'), 'rules:\n  - { id: r1, effect: deny, tool: query_database, bogus: 1 }\n');
    process.kill(process.pid, 'SIGHUP');
    await until(() => logs.some((l) => l.msg.startsWith('policy reload failed')), 5000);
    assert.equal(rt.policy().version, v1, 'the broken file did not replace the policy');
    const failed = logs.find((l) => l.msg.startsWith('policy reload failed'));
    assert.match(String(failed?.data?.message), /a\.yaml:2.*bogus|bogus.*a\.yaml/s);
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
  assert.equal(process.listenerCount('SIGHUP'), 0, 'stop() removed the SIGHUP handler');
});
