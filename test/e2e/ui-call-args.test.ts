/**
 * Real Chromium: a statement longer than the timeline's 300-character preview is cut there, the
 * cut notice links to the call's full arguments, and that page shows the statement's tail, its
 * HTML as text and a Zalgo stack counted, as the timeline does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUiApprovalFixture } from '../support/ui-approval-fixture.js';

const marks = Array.from({ length: 200 }, (_, i) => String.fromCodePoint(0x300 + (i % 0x4f))).join('');

test('the cut notice links to the full arguments, which show the statement\'s tail', { timeout: 120_000 }, async (t) => {
  const { store, ui, browser } = await startUiApprovalFixture(t, 'ui-call-args', { width: 1280, height: 800 });
  const at = new Date().toISOString();
  const sql = `SELECT '<script>document.title="owned"</script>', '${'x'.repeat(5000)}' FROM t WHERE tail_marker = 42 AND z = 'Z${marks}'`;
  await store.recordIntent({ id: 'long', sessionId: 'sess-agent', tool: 'query_database', connection: 'shop', args: { sql }, factsSummary: 'SELECT public.t', facts: null, decision: 'allow', ruleIds: ['reads'], policyVersion: 'v1', startedAt: at });
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/sessions/sess-agent', ui.url).href);
  await page.click('#call-long details summary');
  const preview = (await page.textContent('#call-long details pre')) ?? '';
  assert.ok(!preview.includes('tail_marker'), 'the timeline shows a preview only');
  await Promise.all([page.waitForURL(/\/ui\/calls\/long\/args$/), page.click('#call-long .cut a.full-args')]);
  const full = (await page.textContent('pre.args')) ?? '';
  assert.ok(full.includes(`FROM t WHERE tail_marker = 42 AND z = 'Z\u0300\u0301 ⟨198 more combining marks⟩ '`), `the tail, its marks counted: ${full.slice(-200)}`);
  assert.ok(full.includes('x'.repeat(5000)), 'nothing cut');
  assert.ok(full.includes('<script>document.title=\\"owned\\"</script>'), 'the HTML reads as text');
  assert.equal(await page.evaluate('document.querySelectorAll("main script, pre script").length'), 0, 'no element from the arguments');
  assert.notEqual(await page.title(), 'owned');
});
