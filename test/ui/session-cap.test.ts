/**
 * Reviewer UI sessions are bounded, over real HTTP: a client that signs in again and again with
 * one valid token (never sending its cookie back, so no sign-in replaces the last) holds at most
 * MAX_UI_SESSIONS_PER_IDENTITY sessions; each sign-in past it ends that identity's oldest. Why:
 * every sign-in added a session kept for its whole term (8 h), so one reviewer's script grew
 * Warden's memory without bound, and every live-update tick scanned them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { MAX_UI_SESSIONS_PER_IDENTITY, UiAuth } from '../../src/ui/auth.js';
import type { Principal } from '../../src/tool-api.js';
import { startOidcIssuer } from '../support/oidc-issuer.js';
import { createOidcVerifier } from '../../src/identity/oidc.js';

test('one identity signing in again and again holds a bounded number of UI sessions; its oldest ends first', async (t) => {
  const issuer = await startOidcIssuer({});
  const verifier = createOidcVerifier({ issuer: issuer.issuer, audience: issuer.audience, groups_claim: 'groups' });
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-cap-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const ui = await startStandaloneUi({ store, log: () => undefined, verifyToken: async (tok) => { const v = await verifier.verify(tok); return { principal: v.principal, expiresAt: v.expiresAt }; } }, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await ui.close();
    await store.close();
    await issuer.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const origin = new URL(ui.url).origin;
  const token = await issuer.mint({ sub: 'rita', groups: ['reviewers'] });
  const signIn = async () => {
    const r = await fetch(`${origin}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: `token=${encodeURIComponent(token)}`, redirect: 'manual' });
    assert.equal(r.status, 303, await r.text());
    return (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  };
  const opens = async (cookie: string) => (await fetch(`${origin}/ui/`, { headers: { cookie }, redirect: 'manual' })).status === 200;

  const cookies: string[] = [];
  for (let i = 0; i < MAX_UI_SESSIONS_PER_IDENTITY + 5; i++) cookies.push(await signIn());
  // One at a time: fifteen pages of one reviewer at once would meet the UI's per-reviewer read cap
  // (four queued or running, read-gate.ts), which is not what this test is about.
  const live: boolean[] = [];
  for (const c of cookies) live.push(await opens(c));
  assert.deepEqual(live.slice(0, 5), [false, false, false, false, false], 'the oldest sessions past the cap have ended');
  assert.ok(live.slice(5).every(Boolean), 'the newest MAX_UI_SESSIONS_PER_IDENTITY still open');
  // Another identity is not touched by rita's sign-ins.
  const other = await issuer.mint({ sub: 'sam', groups: ['reviewers'] });
  const r = await fetch(`${origin}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: `token=${encodeURIComponent(other)}`, redirect: 'manual' });
  assert.equal(r.status, 303);
  assert.ok(await opens((r.headers.get('set-cookie') ?? '').split(';')[0]!));
  assert.ok(await opens(cookies.at(-1)!));
});

test('UiAuth: sessions stay bounded per identity and in all; when all are taken a new sign-in is refused, not made by ending another identity\'s', () => {
  const auth = new UiAuth(3600_000, 60_000, 100);
  const who = (sub: string): Principal => ({ subject: sub, groups: [], claims: { iss: 'https://idp.test' }, authMethod: 'oidc' });
  for (let i = 0; i < 10_000; i++) auth.start(who('rita'));
  assert.equal(auth.size(), MAX_UI_SESSIONS_PER_IDENTITY, 'ten thousand sign-ins of one identity hold its cap, no more');
  const small = new UiAuth(3600_000, 60_000, 2);
  small.start(who('a'));
  small.start(who('b'));
  assert.throws(() => small.start(who('c')), (e: Error & { code?: string }) => e.code === 'WARDEN_UNAVAILABLE');
  assert.equal(small.size(), 2);
  // Nor does an identity under its own cap get one more by ending its own or another's.
  assert.throws(() => small.start(who('a')), (e: Error & { code?: string }) => e.code === 'WARDEN_UNAVAILABLE');
  assert.equal(small.size(), 2);
});
