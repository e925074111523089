/**
 * In real Chromium: a page served from another port of the same host is same-site with the
 * reviewer UI (SameSite ignores ports), so the browser sends the reviewer's SameSite=Strict cookie
 * with that page's form POST. Even with the right CSRF token in the form, the approval must not
 * happen; the reviewer's own Approve button on the UI still works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';

const decision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 600_000, wait: 0, ruleId: 'fix' },
};

test('Chromium: a page on another port cannot approve with the reviewer\'s cookie; the UI\'s own button can', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-origin-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const approvals = createApprovalService(store.approvals, { pollMs: 20 });
  const rita: Principal = { subject: 'rita', groups: ['dba'], claims: {}, authMethod: 'local' };
  const ui = await startStandaloneUi({ store, approvals, log: () => undefined, localPrincipal: rita }, { host: '127.0.0.1', port: 0 });
  const hold = async (sql: string) =>
    ((await approvals.gate({
      callId: `c-${sql.length}`, sessionId: 's1', principal: { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'oidc' }, tool: 'query_database', connection: 'db',
      canonicalArgs: { connection: 'db', sql }, decision, factsSummary: 'update; writes public.orders', signal: new AbortController().signal,
    })) as { approvalId: string }).approvalId;
  const target = await hold('UPDATE orders SET total = 0');
  const mine = await hold('UPDATE orders SET total = 1 WHERE id = 7');

  // The other program on this host, on another port: it serves whatever an attacker got into it.
  let attackPage = '';
  const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(attackPage));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;

  const browser = await chromium.launchPersistentContext(mkdtempSync(join(dir, 'profile-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    await browser.close();
    await new Promise((r) => other.close(r));
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  assert.equal(new URL(page.url()).pathname, '/ui/');
  await page.goto(new URL('/ui/approvals', ui.url).href);
  const csrf = await page.locator('input[name=csrf]').first().inputValue();
  assert.ok(csrf, 'the reviewer page carries the CSRF token');

  // The cross-port page is same-site: a link from it lands in the UI signed in (the cookie went along).
  attackPage = `<!doctype html><a id="go" href="${new URL('/ui/', ui.url).href}">go</a>
    <form id="f" method="post" action="${new URL(`/ui/approvals/${target}/approve`, ui.url).href}">
    <input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="decision" value="approve"><button id="b">win a prize</button></form>`;
  await page.goto(otherUrl);
  await Promise.all([page.waitForURL(/\/ui\/$/), page.click('#go')]);
  assert.match(await page.locator('header').innerText(), /rita/, 'signed in: the SameSite=Strict cookie crossed ports');

  // The same page's form POST, with the cookie and the right CSRF token: refused, nothing decided.
  await page.goto(otherUrl);
  const [resp] = await Promise.all([page.waitForResponse((r) => r.url().includes(`/ui/approvals/${target}/approve`)), page.click('#b')]);
  assert.equal(resp.status(), 403);
  assert.equal((await approvals.get(target))?.state, 'pending');

  // The reviewer's own Approve button (same origin) still works.
  await page.goto(new URL('/ui/approvals', ui.url).href);
  const card = page.locator(`#approval-${mine}`);
  await Promise.all([page.waitForURL(/done=approved/), card.locator('button[value=approve]').click()]);
  assert.equal((await approvals.get(mine))?.state, 'approved');
  assert.equal((await approvals.get(target))?.state, 'pending');
});
