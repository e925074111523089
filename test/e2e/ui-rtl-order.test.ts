/**
 * Red team, in real Chromium: right-to-left letters reorder what a reviewer reads without any
 * bidi control character (so escaping controls does not help). Two Hebrew letters in comments
 * around `5, 50000` make the browser's bidi algorithm draw everything between them right to left:
 * the card read `pay_out(/*ב*\/ 50000 ,5 /*א*\/)` for a call that pays out 5, and `'ב' > 5` came
 * out as `5 > 'ב'` (`>` mirrored). Every text in the UI is now drawn in stored order, left to
 * right, and the card says the call holds right-to-left letters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startUiApprovalFixture } from '../support/ui-approval-fixture.js';

const SQL = "SELECT pay_out(/*א*/ 5, 50000 /*ב*/) WHERE 'ג' > 5 OR 'ד' < 1";

/**
 * The characters of the element at `sel` in the order the browser draws them (lines top to
 * bottom, each left to right), blanks dropped, and in the order they are stored.
 */
async function drawnAndStored(page: Page, sel: string): Promise<{ drawn: string; stored: string }> {
  return (await page.evaluate(`(() => {
    const root = document.querySelector(${JSON.stringify(sel)});
    const lineHeight = parseFloat(getComputedStyle(root).lineHeight) || 16;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const boxes = [];
    let stored = '';
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (let i = 0; i < n.data.length; ) {
        const ch = String.fromCodePoint(n.data.codePointAt(i));
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + ch.length);
        i += ch.length;
        if (/\\s/.test(ch)) continue;
        stored += ch;
        const b = r.getBoundingClientRect();
        boxes.push({ ch, y: b.top + b.height / 2, x: b.left + b.width / 2 });
      }
    }
    boxes.sort((a, b) => a.y - b.y);
    const lines = [];
    for (const b of boxes) {
      const line = lines[lines.length - 1];
      if (line && b.y - line[0].y < lineHeight / 2) line.push(b);
      else lines.push([b]);
    }
    return { drawn: lines.map((l) => l.sort((a, b) => a.x - b.x).map((b) => b.ch).join('')).join(''), stored };
  })()`)) as { drawn: string; stored: string };
}

test('Chromium: right-to-left letters in a held call do not reorder the approval card', { timeout: 120_000 }, async (t) => {
  const { approvals, ui, browser, abort } = await startUiApprovalFixture(t, 'ui-rtl-card', { width: 1280, height: 800 });
  const gate = approvals.gate({
    callId: 'call-rtl', sessionId: 'sess-agent', principal: { subject: 'agent-bob', groups: [], claims: {}, authMethod: 'stdio' },
    tool: 'query_database', connection: 'shop', canonicalArgs: { sql: SQL },
    decision: { effect: 'allow', ruleIds: ['writes'], reason: 'allowed with approval', trace: [], alternatives: [], approval: { ruleId: 'writes', approvals: 1, expires: 600_000, wait: 60_000 } } as never,
    factsSummary: "call public.pay_out(/*א*/ 5, 50000 /*ב*/)", signal: abort.signal,
  });
  gate.catch(() => undefined);
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/approvals', ui.url).href);
  await page.waitForSelector('.approval .bound-call');
  for (const sel of ['.approval .bound-call', '.approval code']) {
    const { drawn, stored } = await drawnAndStored(page, sel);
    assert.ok(stored.includes('5,50000'), `${sel}: the stored text is the call's: ${stored}`);
    assert.equal(drawn, stored, `${sel}: drawn in the order it is stored`);
  }
  const note = await page.locator('.approval .rtl-note').innerText();
  assert.match(note, /right-to-left letters/i, 'the card says why those words read reversed');
});

test('Chromium: right-to-left letters do not reorder a recorded call in the transcript views', { timeout: 120_000 }, async (t) => {
  const { store, ui, browser } = await startUiApprovalFixture(t, 'ui-rtl-transcript', { width: 1280, height: 800 });
  const at = new Date().toISOString();
  await store.recordIntent({ id: 'rtl', sessionId: 'sess-agent', tool: 'query_database', connection: 'shop', args: { sql: SQL }, factsSummary: 'call public.pay_out(/*א*/ 5, 50000 /*ב*/)', facts: null, decision: 'allow', ruleIds: ['writes'], policyVersion: 'v1', startedAt: at });
  await store.recordOutcome('rtl', { status: 'ok', errorCode: null, result: { rows: [['א', 5, 50000, 'ב']] }, masking: null, durationMs: 1, endedAt: at });
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/sessions/sess-agent', ui.url).href);
  await page.click('#call-rtl details summary');
  for (const sel of ['#call-rtl div:has(> strong) code', '#call-rtl details pre', '#call-rtl pre.result']) {
    const { drawn, stored } = await drawnAndStored(page, sel);
    assert.equal(drawn, stored, `${sel}: drawn in the order it is stored`);
  }
  await page.goto(new URL('/ui/calls/rtl/args', ui.url).href);
  const { drawn, stored } = await drawnAndStored(page, 'pre.args');
  assert.equal(drawn, stored, 'the full arguments page: drawn in the order they are stored');
});
