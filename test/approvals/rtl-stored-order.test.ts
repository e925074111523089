/**
 * Red team, through a real bidi algorithm (Chromium's): right-to-left letters reorder a plain-text
 * line with no control character at all, so escaping controls did not help. Two Hebrew letters in
 * comments around `5, 50000` drew `pay_out(/*ב*\/ 50000 ,5 /*א*\/)` for a call paying out 5, in a
 * terminal (`warden approvals show`, `transcripts show|replay`), the elicitation prompt and Slack.
 * Every line holding such letters is now held in stored order (LRM + LRO ... PDF, added after the
 * escaping), the agent's own controls stay escaped, and none of them can close the override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inStoredOrder, showHidden } from '../../src/visible-text.js';
import { confirmMessage } from '../../src/approvals/confirm.js';
import { canonicalCall } from '../../src/approvals/index.js';
import type { ApprovalRow } from '../../src/recorder/index.js';
import { bidiPage, reordered, withoutOrderMarks } from '../support/bidi-order.js';
import { rawHidden } from '../support/hidden-chars.js';

const SQL = "SELECT pay_out(/*א*/ 5, 50000 /*ב*/) WHERE 'ג' > 5 OR 'ד' < 1";
// The agent tries to close Warden's override early (PDF), to start its own (RLO), and to end an isolate (PDI).
const CLOSER = "SELECT pay_out(/*א*/ 5,\u202c 50000 /*ב*/)\u202e -- \u2069 'ج' \t 7, 70000 'د'";

test('a real bidi algorithm draws the old escaped line reordered (the attack), the new one in stored order', async (t) => {
  const page = await bidiPage(t);
  assert.ok((await reordered(page, showHidden(SQL))).length > 0, 'the oracle sees the attack: escaping alone leaves the line reordered');
  assert.deepEqual(await reordered(page, inStoredOrder(SQL)), []);
  assert.deepEqual(await reordered(page, inStoredOrder(`${SQL}\nplain line\n  'א' 1, 2 'ב'  `)), [], 'every line, indented and trailing blanks too');
  assert.deepEqual(await reordered(page, inStoredOrder(CLOSER)), [], 'the agent cannot close or replace the override');
});

test("the agent's own bidi controls stay escaped; Warden's marks are the only raw ones, one pair a line", () => {
  const out = inStoredOrder(`${CLOSER}\nno rtl \u202e here`);
  const [first, second] = out.split('\n');
  assert.ok(first!.startsWith('\u200e\u202d') && first!.endsWith('\u202c'), JSON.stringify(first));
  assert.equal(second, 'no rtl \\u{202e} here', 'a line without right-to-left letters gets no marks');
  assert.equal(rawHidden(withoutOrderMarks(out)), null, 'no raw control but the marks');
  for (const c of ['202c', '202e', '2069']) assert.ok(first!.includes(`\\u{${c}}`), `the agent's U+${c} is shown escaped`);
  assert.equal(inStoredOrder('SELECT 1, 2'), 'SELECT 1, 2', 'left-to-right text is unchanged');
});

test('the elicitation prompt holds right-to-left lines in stored order and says their words read reversed', async (t) => {
  const call = canonicalCall('query_database', 'shop', { connection: 'shop', sql: SQL });
  const row = { id: 'a1', tool: 'query_database', connection: 'shop', summary: 'call public.pay_out(/*א*/ 5, 50000 /*ב*/)', canonicalCall: call.text, approvalRule: 'confirm' } as unknown as ApprovalRow;
  const msg = confirmMessage(row);
  assert.match(msg, /^Note: right-to-left letters .* read reversed/m);
  assert.equal(rawHidden(withoutOrderMarks(msg)), null);
  const page = await bidiPage(t);
  assert.deepEqual(await reordered(page, msg), []);
  assert.doesNotMatch(confirmMessage({ ...row, summary: 'call public.pay_out(5, 50000)', canonicalCall: canonicalCall('query_database', 'shop', { connection: 'shop', sql: 'SELECT pay_out(5, 50000)' }).text }), /right-to-left/);
});
