/**
 * The Slack and JSON webhook previews a reviewer may decide from: hidden characters (zero-width,
 * bidi overrides, terminal escapes) are shown the way the UI card, `warden approvals show` and the
 * elicitation prompt show them, a long call is cut visibly (never silently, and its tail is
 * shown), and look-alike words are flagged. A review found the Slack preview cut at 1,500
 * characters with nothing but a trailing "…", after a run of blanks that hid `OR true`.
 * Delivered through the real notifier to a real local receiver.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createWebhookNotifier, type ApprovalNotice } from '../../src/approvals/notifier.js';
import { reviewable } from '../../src/approvals/reviewable.js';

let server: Server;
let url = '';
const received: unknown[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
});
after(() => new Promise((r) => server.close(r)));

function notice(sql: string, summary = 'update; writes public.orders'): ApprovalNotice {
  return {
    event: 'requested',
    seq: 1,
    approval: { id: 'apr-1', state: 'pending', requester: 'sam', tool: 'query_database', connection: 'db', summary, rule_ids: ['fix'], approvals_required: 1, approvals: 0, created_at: '2026-01-01T00:00:00Z', expires_at: '2026-01-01T00:30:00Z', call_id: null, session_id: null, decisions: [] },
    call: { tool: 'query_database', connection: 'db', args: { connection: 'db', sql } },
  };
}

/** Deliver one notice in a format and return the body the receiver got. */
async function deliver(format: 'slack' | 'json', n: ApprovalNotice): Promise<Record<string, unknown>> {
  const before = received.length;
  const notifier = createWebhookNotifier({ attempts: 1 });
  notifier.notify({ webhook: url, format }, n);
  await notifier.drain(5000);
  assert.equal(received.length, before + 1, 'delivered');
  return received[received.length - 1] as Record<string, unknown>;
}

/** All the mrkdwn text of a Slack body, and the call's section. */
function slackTexts(b: Record<string, unknown>): { all: string; call: string } {
  const blocks = b.blocks as { type: string; text?: { text: string }; elements?: { text: string }[] }[];
  const texts = blocks.map((x) => x.text?.text ?? (x.elements ?? []).map((e) => e.text).join('\n'));
  return { all: [String(b.text), ...texts].join('\n'), call: blocks[1]?.text?.text ?? '' };
}

const HIDDEN = "UPDATE orders SET note = 'a\u200bb' WHERE id = 1 /* \u202e */ \u001b[2K\r OR true";

test('Slack: hidden characters in the call, summary and requester are shown, as the other reviewer views show them', async () => {
  const n = notice(HIDDEN, 'update; writes public."sredro\u202e"');
  n.approval.requester = 'mal\u200blory';
  const b = await deliver('slack', n);
  const { all, call } = slackTexts(b);
  assert.ok(!/[\u200b\u202e\u001b\r]/.test(all), `no raw hidden character reaches Slack: ${JSON.stringify(all)}`);
  assert.ok(call.includes(reviewable(HIDDEN)), `the same rendering as the UI card and the CLI: ${call}`);
  assert.match(all, /sredro\\u\{202e\}/);
  assert.match(all, /mal\\u\{200b\}lory/);
});

test('JSON webhook: a reviewable preview beside the exact call', async () => {
  const b = await deliver('json', notice(HIDDEN));
  assert.equal((b.call as { args: { sql: string } }).args.sql, HIDDEN, 'machines get the exact arguments');
  const preview = String(b.preview);
  assert.ok(preview.includes(reviewable(HIDDEN)), preview);
  assert.ok(!/[\u200b\u202e\u001b\r]/.test(preview));
  assert.equal(b.preview_cut, false);
});

test('a run of blanks cannot push the dangerous tail out of the preview', async () => {
  const sql = "UPDATE orders SET total = 0 WHERE id = 1 --" + ' '.repeat(4000) + '\nOR true';
  const { call, all } = slackTexts(await deliver('slack', notice(sql)));
  assert.match(call, /⟨4000 spaces⟩/);
  assert.match(call, /OR true/);
  assert.doesNotMatch(all, /preview cut/i, 'nothing was cut');
});

test('a long call is cut visibly, outside the code block, and its tail is shown', async () => {
  const ids = Array.from({ length: 1500 }, (_, i) => i + 1).join(', ');
  const sql = `UPDATE orders SET total = 0 WHERE id IN (${ids}) OR true`;
  const b = await deliver('slack', notice(sql));
  const { call } = slackTexts(b);
  const fenceEnd = call.lastIndexOf('```');
  assert.ok(fenceEnd > 0, call.slice(0, 200));
  const outside = call.slice(fenceEnd + 3);
  const m = /preview cut: (\d[\d,]*) of (\d[\d,]*) characters shown/i.exec(outside);
  assert.ok(m, `the cut is announced outside the fenced call text (the agent cannot forge or hide it): ${outside}`);
  assert.equal(Number(m[2]!.replace(/,/g, '')), reviewable(sql).length);
  assert.match(outside, /warden approvals show apr-1/);
  assert.match(call.slice(0, fenceEnd), /OR true$/, 'the tail of the call is in the preview');
  assert.match(call.slice(0, fenceEnd), /⟨… [\d,]+ characters cut …⟩/, 'where the cut is, inside the text');
  assert.ok(call.length < 3000, `Slack section text limit: ${call.length}`);
  const j = await deliver('json', notice(sql));
  assert.equal(j.preview_cut, true);
  assert.match(String(j.preview), /OR true$/);
});

test('Slack and JSON previews flag look-alike words', async () => {
  const { all } = slackTexts(await deliver('slack', notice('DELETE FROM u\u0455ers', 'delete; writes public.u\u0455ers')));
  assert.match(all, /look-alike[^\n]*u\u0455ers[^\n]*U\+0455 Cyrillic/);
  const j = await deliver('json', notice('DELETE FROM u\u0455ers'));
  assert.ok((j.warnings as string[]).some((w) => /u\u0455ers.*U\+0455 Cyrillic/.test(w)), JSON.stringify(j.warnings));
  const clean = await deliver('json', notice('DELETE FROM users'));
  assert.deepEqual(clean.warnings, []);
});
