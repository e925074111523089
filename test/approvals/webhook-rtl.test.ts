/**
 * Red team, through the real webhook notifier, a real receiver and a real bidi algorithm
 * (Chromium's): Slack's client draws text with the bidi algorithm, so two Hebrew letters around
 * `5, 50000` in a call's comments showed a call paying out 5 as `50000 ,5`, with no control
 * character to escape. The Slack body and the generic body's `text` and `preview` now hold every
 * right-to-left line in stored order and say their words read reversed; the generic body's `call`
 * and `approval` stay exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReceiver } from './support.js';
import { createWebhookNotifier } from '../../src/approvals/index.js';
import { rawHidden } from '../support/hidden-chars.js';
import { bidiPage, reordered, withoutOrderMarks } from '../support/bidi-order.js';

const SQL = "SELECT pay_out(/*א*/ 5, 50000 /*ב*/) WHERE 'ג' > 5 --\u202c 'ه' 7, 70000 'و'";
const SUMMARY = 'call public.pay_out(/*א*/ 5, 50000 /*ב*/)';

test('Slack and generic webhook previews: right-to-left lines drawn in stored order, noted; the call exact', { timeout: 120_000 }, async (t) => {
  const receiver = await startReceiver(0);
  const url = receiver.url;
  const n = createWebhookNotifier({ attempts: 1 });
  try {
    for (const format of ['slack', 'json'] as const) {
      n.notify({ webhook: url, format }, {
        event: 'requested',
        seq: 1,
        approval: { id: 'a', state: 'pending', requester: 'sam', tool: 'query_database', connection: 'db', summary: SUMMARY, rule_ids: ['r'], approvals_required: 1, approvals: 0, created_at: '', expires_at: '', call_id: null, session_id: null, decisions: [] },
        call: { tool: 'query_database', connection: 'db', args: { sql: SQL } },
      });
    }
    await n.drain(5000);
  } finally {
    await receiver.close();
  }
  const bodies = receiver.hits.map((h) => h.body);
  assert.equal(bodies.length, 2);
  for (const b of bodies) assert.equal(rawHidden(b), null, 'the body itself has the marks as JSON escapes');
  const page = await bidiPage(t);
  const slack = JSON.parse(bodies[0]!) as { text: string; blocks: { text?: { text: string }; elements?: { text: string }[] }[] };
  const texts = [slack.text, ...slack.blocks.flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => e.text)])];
  // The code fence's opening backticks stand before the first line's marks.
  const all = texts.join('\n').replace(/```/g, '');
  assert.ok(all.includes('5, 50000'), all);
  assert.match(all, /_note: right-to-left letters .* read reversed/);
  assert.ok(all.includes('--\\u{202c}'), "the agent's own PDF is shown escaped");
  assert.equal(rawHidden(withoutOrderMarks(all)), null, "no raw control but Warden's marks");
  assert.deepEqual(await reordered(page, all), [], 'Slack draws every line in stored order');
  const json = JSON.parse(bodies[1]!) as { text: string; preview: string; warnings: string[]; call: { args: { sql: string } }; approval: { summary: string } };
  assert.equal(json.call.args.sql, SQL, 'the call is exact');
  assert.equal(json.approval.summary, SUMMARY);
  assert.ok(json.warnings.some((w) => /right-to-left letters .* read reversed/.test(w)), JSON.stringify(json.warnings));
  assert.deepEqual(await reordered(page, `${json.text}\n${json.preview}`), []);
  assert.equal(rawHidden(withoutOrderMarks(json.preview)), null);
});
