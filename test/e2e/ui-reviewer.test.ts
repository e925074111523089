/**
 * The reviewer UI in real Chromium: one-time login, filters, a session with a masked value, a
 * stored XSS payload rendered as text, and a pending approval approved in the browser while the
 * real approval service holds the agent's call, which then completes (seen live, no reload).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { CSP } from '../../src/ui/index.js';
import { REPO_ROOT } from '../support/repo.js';
import { seedUi, XSS } from '../ui/fixtures.js';
import { launchChromium } from '../support/chromium.js';

test('reviewer UI in Chromium: login, filter, masked session, XSS as text, approve a waiting call live', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-e2e-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  await seedUi(store);
  const approvals = createApprovalService(store.approvals, { pollMs: 50, progressEveryMs: 60_000 });
  const ui = await startStandaloneUi({ store, approvals, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  // A new empty profile per run (launchPersistentContext passes it as --user-data-dir).
  const browser = await launchChromium(dir, { width: 1280, height: 900 });
  t.after(async () => {
    await browser.close();
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });

  // Log in with the one-time link; the response carries the strict CSP.
  const first = await page.goto(ui.loginUrl);
  assert.equal(first?.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/ui/');
  assert.equal((await first?.request().redirectedFrom()?.response())?.status(), 303);
  assert.equal(await first?.headerValue('content-security-policy'), CSP);
  assert.equal(await page.locator('#sessions tbody tr').count(), 14);

  // Filter by principal.
  await page.fill('input[name=principal]', 'agent-alpha');
  await page.click('form.filters button[type=submit]');
  await page.waitForURL(/principal=agent-alpha/);
  assert.equal(await page.locator('#sessions tbody tr').count(), 1);

  // Open the session: the masked value is shown masked, the big value truncated.
  await page.click('#sessions tbody a');
  await page.waitForURL(/\/ui\/sessions\/sess-alpha$/);
  const text = await page.locator('main').innerText();
  assert.match(text, /a\*\*\*@example\.com/);
  assert.doesNotMatch(text, /alice@example\.com/);
  assert.match(text, /SELECT public\.users\(name, email\)/);
  assert.match(text, /analysts-read/);
  assert.match(text, /no-ddl/);
  assert.match(text, /truncated/);
  mkdirSync(join(REPO_ROOT, 'docs', 'screenshots'), { recursive: true });
  await page.screenshot({ path: join(REPO_ROOT, 'docs', 'screenshots', 'session.png'), fullPage: false });

  // The XSS session: the payload is visible as text, nothing ran, no element was injected.
  await page.goto(new URL('/ui/sessions/sess-evil', ui.url).href);
  const evil = await page.locator('main').innerText();
  assert.ok(evil.includes(XSS), 'payload shown as text');
  assert.equal(await page.locator('main img').count(), 0);
  assert.equal(await page.locator('script').count(), 1);
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, []);

  // An agent call waits for approval (the real approval service, rows in the same store).
  await store.openSession({ id: 'sess-agent', principal: { subject: 'agent-bob', groups: ['ops'], authMethod: 'stdio' }, client: { name: 'agent' }, transport: 'stdio', startedAt: new Date().toISOString() });
  const gate = approvals.gate({
    callId: 'call-wait', sessionId: 'sess-agent', principal: { subject: 'agent-bob', groups: ['ops'], claims: {}, authMethod: 'stdio' },
    tool: 'query_database', connection: 'shop', canonicalArgs: { sql: 'UPDATE orders SET total = 0 WHERE id = 4' },
    decision: { effect: 'allow', ruleIds: ['ops-writes'], reason: 'allowed with approval', trace: [], alternatives: [], approval: { ruleId: 'ops-writes', approvals: 1, expires: 600_000, wait: 60_000 } } as never,
    factsSummary: 'UPDATE public.orders(total)', signal: new AbortController().signal,
  });
  const agentPage = await browser.newPage();
  await agentPage.goto(new URL('/ui/sessions/sess-agent', ui.url).href);
  await agentPage.evaluate('window.marker = 42');
  assert.match(await agentPage.locator('main').innerText(), /No calls yet/);

  await page.goto(new URL('/ui/approvals', ui.url).href);
  await page.waitForSelector('.approval');
  assert.match(await page.locator('.approval').innerText(), /UPDATE public\.orders\(total\)[\s\S]*agent-bob|agent-bob[\s\S]*UPDATE public\.orders\(total\)/);
  await page.fill('.approval input[name=comment]', 'ok for ticket 42');
  await page.click('.approval button[value=approve]');
  await page.locator('#decided').waitFor({ timeout: 5000 }).catch(async (e: unknown) => {
    throw new Error(`${page.url()}: ${await page.locator('main').innerText()} (${String(e)})`);
  });
  assert.match(await page.locator('#decided').innerText(), /^You approved request \S+ \(query_database @ shop\); it is now approved\.$/);
  const granted = await gate;
  assert.equal(granted.granted, true);
  assert.match(await page.locator('main').innerText(), /No pending approvals/);

  // The call proceeds as the pipeline would: intent, execution, masked outcome; the open session page updates live.
  await store.recordIntent({ id: 'call-wait', sessionId: 'sess-agent', tool: 'query_database', connection: 'shop', args: { sql: 'UPDATE orders SET total = 0 WHERE id = 4' }, factsSummary: 'UPDATE public.orders(total)', facts: null, decision: 'allow', ruleIds: ['ops-writes'], policyVersion: 'v1', startedAt: new Date().toISOString() });
  await store.recordOutcome('call-wait', { status: 'ok', errorCode: null, result: { command: 'UPDATE', affected: 1 }, masking: null, durationMs: 7, endedAt: new Date().toISOString() });
  // (waitForFunction would eval a string, which this page's CSP forbids: poll the text instead.)
  await agentPage.locator('main', { hasText: '"affected": 1' }).waitFor({ timeout: 15_000 });
  assert.equal(await agentPage.evaluate('window.marker'), 42, 'updated without a reload');
  assert.match(await agentPage.locator('main').innerText(), /approved by local-reviewer|approve by local-reviewer/);
  assert.deepEqual(dialogs, []);
});
