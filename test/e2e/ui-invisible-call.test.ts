/**
 * Red team, in real Chromium: an agent's statement whose tail is spelled in Unicode tag
 * characters (which a browser draws as nothing) waits for approval. The reviewer's approval card
 * must show that tail as visible escapes, not `WHERE name = 'bob'` alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startUiApprovalFixture } from '../support/ui-approval-fixture.js';

const HIDDEN = Array.from("' OR '1'='1", (c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');

test('approval card in Chromium shows a statement tail hidden in tag characters', { timeout: 120_000 }, async (t) => {
  const { approvals, ui, browser, abort, principal } = await startUiApprovalFixture(t, 'ui-invisible');
  const sql = `DELETE FROM users WHERE name = 'bob${HIDDEN}'`;
  const gate = approvals.gate({
    callId: 'call-wait', sessionId: 'sess-agent', principal: { subject: 'agent-bob', groups: [], claims: {}, authMethod: 'stdio' },
    tool: 'query_database', connection: 'shop', canonicalArgs: { sql },
    decision: { effect: 'allow', ruleIds: ['writes'], reason: 'allowed with approval', trace: [], alternatives: [], approval: { ruleId: 'writes', approvals: 1, expires: 600_000, wait: 60_000 } } as never,
    factsSummary: 'DELETE public.users', signal: abort.signal,
  });
  gate.catch(() => undefined);
  const page = await browser.newPage();
  await page.goto(ui.loginUrl);
  await page.goto(new URL('/ui/approvals', ui.url).href);
  await page.waitForSelector('.approval .bound-call');
  const shown = await page.locator('.approval .bound-call').innerText();
  assert.doesNotMatch(shown, /[\u{e0000}-\u{e007f}]/u, 'no tag character reaches the reviewer');
  assert.ok(shown.includes("'bob\\u{e0027}\\u{e0020}\\u{e004f}\\u{e0052}"), `the hidden tail is visible: ${shown}`);
});
