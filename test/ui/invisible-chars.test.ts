/**
 * Red team: default-ignorable characters that render as nothing (Unicode tag characters
 * U+E0000-E007F, variation selectors, the combining grapheme joiner, Hangul fillers, musical
 * format controls) were not in the hidden set the reviewer views escape, so an approval card, a
 * transcript page or a terminal showed `WHERE name = 'bob'` for a statement whose literal holds a
 * hidden payload. Every reviewer view uses one set (showHidden): it must escape them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reviewable } from '../../src/approvals/reviewable.js';
import { showHidden } from '../../src/visible-text.js';
import { approvalsBody } from '../../src/ui/approvals-page.js';
import { resultBody } from '../../src/ui/call-pages.js';
import { table } from '../../src/cli/transcripts-format.js';
import { message, page } from '../../src/ui/layout.js';
import type { ApprovalReviewApi, ApprovalView } from '../../src/approvals/review-api.js';
import type { CallRecord } from '../../src/recorder/types.js';

/** 'OR 1=1' spelled in tag characters (invisible in browsers and terminals), then other invisibles. */
const TAGS = Array.from(' OR 1=1', (c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
const OTHERS = ['\u034f', '\u115f', '\u1160', '\u17b4', '\u3164', '\uffa0', '\ufe0f', '\u{e0100}', '\u{1d173}', '\u{e0001}', '\u{1bca0}'];
const INVISIBLE = /[\u034f\u115f\u1160\u17b4\u3164\uffa0\ufe00-\ufe0f\u{e0000}-\u{e0fff}\u{1d173}-\u{1d17a}\u{1bca0}-\u{1bca3}]/u;

test('showHidden escapes tag characters, variation selectors, fillers and other default-ignorables', () => {
  const s = `DELETE FROM users WHERE name = 'bob${TAGS}' ${OTHERS.join('x')}`;
  const out = showHidden(s);
  assert.doesNotMatch(out, INVISIBLE, 'no invisible character survives');
  assert.match(out, /'bob\\u\{e0020\}\\u\{e004f\}\\u\{e0052\}/);
  for (const c of OTHERS) assert.ok(out.includes(`\\u{${c.codePointAt(0)!.toString(16)}}`), `U+${c.codePointAt(0)!.toString(16)} shown`);
  assert.equal(showHidden('line 1\n\tline 2 ünïcödé 日本語'), 'line 1\n\tline 2 ünïcödé 日本語', 'ordinary text, newlines and tabs unchanged');
  assert.doesNotMatch(reviewable(s), INVISIBLE);
});

test('the approval card shows an invisible tail of the bound statement', async () => {
  const view: ApprovalView = {
    id: 'a1', state: 'pending', requester: `mallory${TAGS}`, tool: 'query_database', connection: 'db',
    summary: `DELETE public.users${'\u3164'}`, rule_ids: ['fix'], approvals_required: 1, approvals: 0,
    created_at: '2026-11-28T00:00:00Z', expires_at: '2026-11-28T00:30:00Z', call_id: null, session_id: null, decisions: [],
    call: { tool: 'query_database', connection: 'db', args: { sql: `DELETE FROM users WHERE name = 'bob${TAGS}'` } },
  };
  const page = String(await approvalsBody({ queueFor: async () => [{ view: view, refused: { approve: null, deny: null } }] } as unknown as ApprovalReviewApi, 'csrf', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  assert.doesNotMatch(page, INVISIBLE);
  assert.match(page, /bob\\u\{e0020\}/);
  assert.match(page, /mallory\\u\{e0020\}/);
  assert.match(page, /users\\u\{3164\}/);
});

test('transcript pages and CLI tables show them too', () => {
  const call = { id: 'c1', sessionId: 's1', outcome: { status: 'ok', result: { rows: [[`bob${TAGS}`]] } } } as unknown as CallRecord;
  assert.doesNotMatch(String(resultBody(call, 1)), INVISIBLE);
  assert.doesNotMatch(table(['CLIENT'], [[`claude${TAGS}`]]), INVISIBLE);
});

test('error messages (which quote subjects and names) and the signed-in subject show them too', () => {
  assert.doesNotMatch(String(message('Request refused', `WARDEN_DENIED: mallory\u202e${TAGS} requested this call`)), /[\u202e]|[\u{e0000}-\u{e007f}]/u);
  const s = { principal: { subject: `dana${TAGS}`, groups: [], claims: {}, authMethod: 'oidc' }, csrf: 'c', expires: 0 };
  assert.doesNotMatch(page('t', s as never, message('a', 'b')), INVISIBLE);
});
