/**
 * Red team, in real Chromium: a call whose text stacks 500 combining marks on one letter
 * ("Zalgo") painted its marks over the lines around it on the approval card (with this machine's
 * fonts, 500 marks spread over several lines of the call block). The run shows as its first two
 * marks and a visible count: the block is as tall as the same call without the marks, and no ink
 * is drawn outside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inkOutside } from '../support/ink-outside.js';
import { startUiApprovalFixture } from '../support/ui-approval-fixture.js';

const marks = Array.from({ length: 500 }, (_, i) => String.fromCodePoint(0x300 + (i % 0x4f))).join('');

test('approval card in Chromium: a 500-mark Zalgo run is a count and draws nothing outside its block', { timeout: 120_000 }, async (t) => {
  const { approvals, ui, browser, abort, principal } = await startUiApprovalFixture(t, 'ui-zalgo', { width: 1280, height: 800 });
  for (const [name, sql] of [['zalgo', `UPDATE t SET x = 'Z${marks}' WHERE id = 1`], ['plain', `UPDATE t SET x = 'Z' WHERE id = 2`]] as const) {
    approvals.gate({
      callId: `call-${name}`, sessionId: 'sess-agent', principal, tool: 'query_database', connection: 'shop', canonicalArgs: { sql },
      decision: { effect: 'allow', ruleIds: ['writes'], reason: 'allowed with approval', trace: [], alternatives: [], approval: { ruleId: 'writes', approvals: 1, expires: 600_000, wait: 60_000 } } as never,
      factsSummary: 'statement', signal: abort.signal,
    }).catch(() => undefined);
  }
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/approvals', ui.url).href);
  await page.waitForFunction(`document.querySelectorAll('.approval .bound-call').length === 2`);
  const blocks = (await page.evaluate(`[...document.querySelectorAll('.approval .bound-call')].map((el) => {
    const b = el.getBoundingClientRect();
    return { text: el.textContent, top: b.top + window.scrollY, bottom: b.bottom + window.scrollY, left: b.left, right: b.right, height: b.height, id: el.closest('.approval').id };
  })`)) as { text: string; top: number; bottom: number; left: number; right: number; height: number; id: string }[];
  const zalgo = blocks.find((b) => b.text.includes('id = 1'))!;
  const plain = blocks.find((b) => b.text.includes('id = 2'))!;
  assert.ok(zalgo.text.includes(`'Z\u0300\u0301 ⟨498 more combining marks⟩ ' WHERE id = 1`), `the run is a visible count: ${zalgo.text.slice(0, 200)}`);
  assert.ok(zalgo.height <= plain.height + 1, `the Zalgo call's block is ${zalgo.height}px tall, the same call without marks ${plain.height}px`);
  // Only the Zalgo block's text is painted; any ink outside its box is its marks' overflow.
  const ink = await inkOutside(page, `#${zalgo.id} .bound-call`);
  assert.ok(ink.inside > 0, 'the block was painted');
  assert.equal(ink.outside, 0, `ink drawn outside the call block: ${JSON.stringify(ink)}`);
});
