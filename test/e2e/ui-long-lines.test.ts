/**
 * Red team, in real Chromium: what a reviewer reads must be the whole call, not its head. An
 * agent's statement hides its tail behind a run of no-break spaces (or other blanks CSS does not
 * wrap at) with no breakable space after it, so `;DROP TABLE users` sat some 200,000 pixels to the
 * right inside a horizontally scrolling block; and a long unbroken word in the parsed summary or
 * a recorded call pushed the page sideways, its tail off screen. Nothing on the approval card or
 * the session timeline may overflow sideways, and blank runs show as a visible count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startUiApprovalFixture } from '../support/ui-approval-fixture.js';

const BLANKS = { nbsp: '\u00a0', ideographic: '\u3000', braille: '\u2800', narrow: '\u202f' } as const;

// For each element matching `sel`: its text's `word` must lie inside the element's box and the
// viewport, and nothing on the page may scroll sideways.
const LAYOUT = (sel: string, word: string) => `(() => {
  const out = { pageOverflow: document.documentElement.scrollWidth - window.innerWidth, items: [] };
  for (const el of document.querySelectorAll(${JSON.stringify(sel)})) {
    const box = el.getBoundingClientRect();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let hit = null;
    for (let n = walker.nextNode(); n && !hit; n = walker.nextNode()) {
      const at = n.textContent.indexOf(${JSON.stringify(word)});
      if (at < 0) continue;
      const r = document.createRange(); r.setStart(n, at); r.setEnd(n, at + ${word.length});
      const b = r.getBoundingClientRect();
      hit = { left: b.left, right: b.right, boxLeft: box.left, boxRight: box.right, vw: window.innerWidth };
    }
    out.items.push({ overflow: el.scrollWidth - el.clientWidth, hit });
  }
  return out;
})()`;

type Layout = { pageOverflow: number; items: { overflow: number; hit: { left: number; right: number; boxLeft: number; boxRight: number; vw: number } | null }[] };

function assertVisible(l: Layout, what: string, expected: number): void {
  assert.ok(l.pageOverflow <= 0, `${what}: the page scrolls sideways by ${l.pageOverflow}px`);
  const hits = l.items.filter((i) => i.hit);
  assert.equal(hits.length, expected, `${what}: the tail is in the text (${JSON.stringify(l.items)})`);
  for (const i of l.items) {
    assert.ok(i.overflow <= 0, `${what}: a block scrolls sideways by ${i.overflow}px`);
    if (!i.hit) continue;
    assert.ok(i.hit.left >= i.hit.boxLeft && i.hit.right <= i.hit.boxRight && i.hit.right <= i.hit.vw, `${what}: the tail is off screen: ${JSON.stringify(i.hit)}`);
  }
}

test('approval card and timeline in Chromium: a tail behind blanks or a long word stays on screen', { timeout: 120_000 }, async (t) => {
  const { store, approvals, ui, browser, abort, principal } = await startUiApprovalFixture(t, 'ui-long', { width: 1280, height: 800 });
  const sqls = Object.entries(BLANKS).map(([name, b]) => [name, `SELECT 1 /*${b.repeat(30_000)}*/;DROP TABLE users`] as const);
  const longWord = 'exec shop/web-0: ' + 'A'.repeat(3000) + 'TAILWORD';
  for (const [name, sql] of [...sqls, ['summary', 'SELECT 1'] as const]) {
    approvals.gate({
      callId: `call-${name}`, sessionId: 'sess-agent', principal, tool: 'query_database', connection: 'shop', canonicalArgs: { sql },
      decision: { effect: 'allow', ruleIds: ['writes'], reason: 'allowed with approval', trace: [], alternatives: [], approval: { ruleId: 'writes', approvals: 1, expires: 600_000, wait: 60_000 } } as never,
      factsSummary: name === 'summary' ? longWord : 'statement', signal: abort.signal,
    }).catch(() => undefined);
    const at = new Date().toISOString();
    await store.recordIntent({ id: `rec-${name}`, sessionId: 'sess-agent', tool: 'query_database', connection: 'shop', args: { sql }, factsSummary: name === 'summary' ? longWord : 'statement', facts: null, decision: 'allow', ruleIds: ['writes'], policyVersion: 'v1', startedAt: at });
    await store.recordOutcome(`rec-${name}`, { status: 'ok', errorCode: null, result: { rows: [[`x${BLANKS.nbsp.repeat(30_000)};DROP TABLE users`]] }, masking: null, durationMs: 1, endedAt: at });
  }
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/approvals', ui.url).href);
  await page.waitForSelector('.approval .bound-call');
  await page.waitForFunction(`document.querySelectorAll('.approval .bound-call').length === ${sqls.length + 1}`);
  assertVisible((await page.evaluate(LAYOUT('.approval .bound-call', 'DROP'))) as Layout, 'approval card, bound call', sqls.length);
  assertVisible((await page.evaluate(LAYOUT('.approval code', 'TAILWORD'))) as Layout, 'approval card, parsed summary', 1);
  const cards = (await page.locator('.approval .bound-call').allInnerTexts()).join('\n');
  for (const b of Object.values(BLANKS)) {
    const code = `U+${b.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    assert.ok(cards.includes(`/* ⟨30000 blank characters: ${code}⟩ */;DROP TABLE users`), `the ${code} run is a visible count`);
  }

  await page.goto(new URL('/ui/sessions/sess-agent', ui.url).href);
  await page.waitForSelector('.call pre.result');
  assertVisible((await page.evaluate(LAYOUT('.call code', 'TAILWORD'))) as Layout, 'timeline, parsed summary', 1);
  // The full result view: a recorded result's tail behind 30,000 no-break spaces.
  await page.goto(new URL('/ui/calls/rec-nbsp/result', ui.url).href);
  await page.waitForSelector('pre.result');
  assertVisible((await page.evaluate(LAYOUT('pre.result', 'DROP'))) as Layout, 'full result', 1);
});
