/**
 * In real Chromium, the reviewer UI counts approving people as the gate does (approval-rules.ts
 * approvingPersons). Found: a request needing 2 that held one approval recorded before reviewer
 * names (pre-v16) took a named reviewer's approval and stayed pending (the name-less one may be
 * the same person), but the page's notice said "still pending, 2 of 2 approvals". Now the card and
 * the notice both say 1 of 2. A real SQLite store taken back to the v15 shape, the real service.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { compilePolicy } from '../../src/policy/load.js';
import type { Principal } from '../../src/tool-api.js';
import { launchChromium } from '../support/chromium.js';
import { NAMELESS_RULE_YAML, seedNamelessApproval } from '../support/nameless-approval.js';

test('Chromium: one name-less and one named approval read 1 of 2 on the card and in the notice', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-count-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await seedNamelessApproval(join(dir, 'w.db'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const policy = compilePolicy(['p.yaml'], [], { 'p.yaml': NAMELESS_RULE_YAML });
  const approvals = createApprovalService(store.approvals, { policy: () => policy, personClaims: ['email'] });
  const dana: Principal = { subject: 'dana@corp.example', groups: ['dba'], claims: {}, authMethod: 'local' };
  const ui = await startStandaloneUi({ store, approvals, log: () => undefined, localPrincipal: dana }, { host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(dir);
  t.after(async () => {
    await browser.close();
    await ui.close();
    await store.close();
  });
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/approvals', ui.url).href);
  const card = page.locator('#approval-r1');
  await card.waitFor();
  assert.match(await card.locator('.meta').innerText(), /approvals so far: 1 of 2/, 'the name-less approval is one person');

  await Promise.all([page.locator('#decided').waitFor(), card.locator('button[value=approve]').click()]);
  assert.equal((await approvals.get('r1'))?.state, 'pending', 'the gate counts one person');
  assert.equal(await page.locator('#decided').innerText(), 'You approved request r1 (query_database @ shop); it is still pending, 1 of 2 approvals.');
  // The card lists both decisions, and counts them as the gate does.
  const after = page.locator('#approval-r1');
  assert.equal(await after.locator('.event').count(), 2);
  assert.match(await after.locator('.meta').innerText(), /approvals so far: 1 of 2/);
});
