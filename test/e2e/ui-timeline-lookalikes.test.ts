/**
 * Red team, in real Chromium: the session timeline and a call's full-arguments page drew an
 * agent's `DELETE FROM uѕers` (a Cyrillic `ѕ`: another table than `users`) with no warning, while
 * the approval card, `warden approvals show` and `warden transcripts show|replay` flag such words.
 * A reviewer auditing what ran in the browser read it as `users`. Each call block (and the session
 * header, the full-arguments page) now carries the same `⚠ look-alike letters` line; a call in
 * plain ASCII, or a word wholly in Cyrillic, gets none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { launchChromium } from '../support/chromium.js';

test('the timeline and the full arguments flag look-alike words as the approval card and the CLI do', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-lookalike-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(dir, { width: 1280, height: 900 });
  t.after(async () => {
    await browser.close();
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const at = '2026-11-28T09:00:00.000Z';
  await store.openSession({ id: 'sess-look', principal: { subject: 'agent-x', groups: [], authMethod: 'oidc' }, client: { name: 'clаude', version: '1' }, transport: 'http', startedAt: at });
  // The look-alike: a Cyrillic ѕ (U+0455) in the table name.
  await store.recordIntent({ id: 'call-look', sessionId: 'sess-look', tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'DELETE FROM uѕers' }, factsSummary: 'delete; writes public.uѕers', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  await store.recordOutcome('call-look', { status: 'ok', errorCode: null, result: { row_count: 3 }, masking: null, durationMs: 1, endedAt: at });
  // The legitimate neighbours: plain ASCII, and a comment wholly in Cyrillic (one script: not flagged).
  await store.recordIntent({ id: 'call-plain', sessionId: 'sess-look', tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'DELETE FROM users /* Привет */' }, factsSummary: 'delete; writes public.users', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  await store.recordOutcome('call-plain', { status: 'ok', errorCode: null, result: { row_count: 3 }, masking: null, durationMs: 1, endedAt: at });

  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/sessions/sess-look', ui.url).href);
  const look = page.locator('#call-call-look .lookalike');
  assert.equal(await look.count(), 1, 'the call with a look-alike word is flagged');
  assert.ok(await look.isVisible());
  assert.match(await look.innerText(), /look-alike letters.*"uѕers" \(U\+0455 Cyrillic\)/);
  assert.equal(await page.locator('#call-call-plain .lookalike').count(), 0, 'plain ASCII and one-script Cyrillic: no warning');
  assert.match(await page.locator('#session-lookalike').innerText(), /"clаude" \(U\+0430 Cyrillic\)/, 'the client name is flagged in the header');

  await page.goto(new URL('/ui/calls/call-look/args', ui.url).href);
  assert.match(await page.locator('main .lookalike').innerText(), /"uѕers" \(U\+0455 Cyrillic\)/, 'the full arguments page flags it too');
  await page.goto(new URL('/ui/calls/call-plain/args', ui.url).href);
  assert.equal(await page.locator('main .lookalike').count(), 0);
});
