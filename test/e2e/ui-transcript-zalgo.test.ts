/**
 * Red team, in real Chromium: a recorded statement (and its parsed summary) stacking 200
 * combining marks on one letter painted over the lines around it in the transcript views, which
 * escaped hidden characters but did not count stacked marks as the approval card does. The run
 * shows as its first two marks and a visible count, and the call's `Parsed:` line and its
 * arguments block are as tall as the same call's without the marks, and the line paints no ink
 * outside its own box.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inkOutside } from '../support/ink-outside.js';
import { startUiApprovalFixture } from '../support/ui-approval-fixture.js';

const marks = Array.from({ length: 200 }, (_, i) => String.fromCodePoint(0x300 + (i % 0x4f))).join('');
const COUNT = `Z\u0300\u0301 ⟨198 more combining marks⟩ `;

test('transcript call detail in Chromium: a 200-mark character is a count and its line keeps one line\'s height', { timeout: 120_000 }, async (t) => {
  const { store, ui, browser } = await startUiApprovalFixture(t, 'ui-transcript-zalgo', { width: 1280, height: 800 });
  const at = new Date().toISOString();
  for (const [name, z] of [['zalgo', `Z${marks}`], ['plain', 'Z']] as const) {
    await store.recordIntent({ id: name, sessionId: 'sess-agent', tool: 'query_database', connection: 'shop', args: { sql: `UPDATE t SET x = '${z}' WHERE id = 1` }, factsSummary: `UPDATE public.t '${z}'`, facts: null, decision: 'allow', ruleIds: ['writes'], policyVersion: 'v1', startedAt: at });
    await store.recordOutcome(name, { status: 'ok', errorCode: null, result: { rows: [[z]] }, masking: null, durationMs: 1, endedAt: at });
  }
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/sessions/sess-agent', ui.url).href);
  for (const id of ['call-zalgo', 'call-plain']) await page.click(`#${id} details summary`);
  const measure = async (sel: string) => (await page.evaluate(`(() => {
    const el = document.querySelector(${JSON.stringify(sel)});
    return { text: el.textContent, height: el.getBoundingClientRect().height };
  })()`)) as { text: string; height: number };
  for (const part of ['div:has(> strong)', 'details pre', 'pre.result']) {
    const zalgo = await measure(`#call-zalgo ${part}`);
    const plain = await measure(`#call-plain ${part}`);
    assert.ok(zalgo.text.includes(COUNT), `${part}: the run is a visible count: ${zalgo.text.slice(0, 200)}`);
    assert.ok(!/\p{M}{7,}/u.test(zalgo.text), `${part}: no run of more than 6 marks reaches the page`);
    assert.ok(zalgo.height <= plain.height + 1, `${part}: ${zalgo.height}px tall, the same call without marks ${plain.height}px`);
  }
  const parsed = await measure('#call-zalgo div:has(> strong)');
  const lineHeight = (await page.evaluate(`parseFloat(getComputedStyle(document.querySelector('#call-zalgo div:has(> strong)')).lineHeight)`)) as number;
  assert.ok(parsed.height <= lineHeight + 1, `the Parsed line is one line tall (${parsed.height}px, line-height ${lineHeight}px)`);
  const ink = await inkOutside(page, '#call-zalgo div:has(> strong)');
  assert.ok(ink.inside > 0, 'the line was painted');
  assert.equal(ink.outside, 0, `ink drawn outside the Parsed line: ${JSON.stringify(ink)}`);
});
