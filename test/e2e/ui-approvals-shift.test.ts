/**
 * Red team, in real Chromium: the approvals queue re-rendered itself in place on every change,
 * newest first. An agent that makes a request (X) and, while the reviewer reads it, a second one
 * (Y) of the same size, moves Y's Approve button to exactly where X's was, under the reviewer's
 * pointer: the click meant for X approves Y. Now the queue never moves while the page is open; a
 * notice says it changed and offers a reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import type { Decision } from '../../src/policy/types.js';
import { launchChromium } from '../support/chromium.js';

const decision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { approvals: 1, expires: 600_000, wait: 0, ruleId: 'fix' },
};

test('Chromium: a new request never moves an Approve button under the reviewer\'s pointer', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-shift-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const approvals = createApprovalService(store.approvals, { pollMs: 20 });
  const ui = await startStandaloneUi({ store, approvals, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  const hold = async (n: number, sql: string) =>
    ((await approvals.gate({
      callId: `c-${n}`, sessionId: 's1', principal: { subject: 'agent-sam', groups: [], claims: {}, authMethod: 'oidc' }, tool: 'query_database', connection: 'db',
      canonicalArgs: { connection: 'db', sql }, decision, factsSummary: 'update; writes public.orders', signal: new AbortController().signal,
    })) as { approvalId: string }).approvalId;
  const browser = await launchChromium(dir);
  t.after(async () => {
    await browser.close();
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const x = await hold(1, 'UPDATE orders SET note = 1 WHERE id = 7');
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/approvals', ui.url).href);
  await page.locator('#live', { hasText: 'live' }).waitFor();
  const box = await page.locator(`#approval-${x} button[value=approve]`).boundingBox();
  assert.ok(box);
  const [px, py] = [box.x + box.width / 2, box.y + box.height / 2];
  const under = () => page.evaluate(`(() => { const b = document.elementFromPoint(${px}, ${py}); return b && b.tagName === 'BUTTON' ? b.closest('section').id + ' ' + b.value : null; })()`);
  assert.equal(await under(), `approval-${x} approve`);

  // The same size as X, so its Approve button would land exactly where X's was.
  const y = await hold(2, 'UPDATE orders SET note = 0 WHERE id > 0');
  // Until the page took the change in (the notice shows) or, as before, slipped Y in.
  const settled = () => page.evaluate(`(() => { const n = document.getElementById('live-changed'); return (!!n && getComputedStyle(n).visibility === 'visible') || !!document.getElementById('approval-${y}'); })()`);
  for (let i = 0; i < 100 && !(await settled()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await under(), `approval-${x} approve`, 'the button under the pointer is still X\'s');
  assert.equal(await page.locator(`#approval-${y}`).count(), 0, 'Y is not slipped into the open page');
  assert.match(await page.locator('#live-changed').innerText(), /changed/);

  // Reloading shows both; X's button still approves X only.
  await Promise.all([page.waitForURL(/\/ui\/approvals$/), page.click('#live-changed a')]);
  assert.equal(await page.locator('.approval').count(), 2);
  await Promise.all([page.locator('#decided').waitFor(), page.locator(`#approval-${x} button[value=approve]`).click()]);
  assert.equal((await approvals.get(x))?.state, 'approved');
  // The notice names what was decided, and only this decision says it: once, never from a link.
  assert.equal(await page.locator('#decided').innerText(), `You approved request ${x} (query_database @ db); it is now approved.`);
  await page.reload();
  assert.equal(await page.locator('#decided').count(), 0, 'said once');
  await page.goto(new URL('/ui/approvals?done=approved', ui.url).href);
  assert.equal(await page.locator('#decided').count(), 0);
  assert.doesNotMatch(await page.locator('main').innerText(), /approved\./);
  assert.equal((await approvals.get(y))?.state, 'pending');
});
