/**
 * Mixed-script look-alikes: `DELETE FROM uѕers` (a Cyrillic ѕ) reads as `users` to a reviewer and
 * names another table to PostgreSQL. Every reviewer view (UI card, `warden approvals show`, the
 * elicitation prompt; the Slack preview in preview-visible.test.ts) flags such words with their
 * code points, through the one shared helper that also shows hidden characters.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookalikeWarning } from '../../src/approvals/reviewable.js';
import { confirmMessage, createApprovalService } from '../../src/approvals/index.js';
import { approvalsBody } from '../../src/ui/approvals-page.js';
import type { ApprovalReviewApi } from '../../src/approvals/review-api.js';
import { approvalsCli } from './support.js';
import { pendingSqlApproval } from './pending-sql.js';

test('words mixing Latin with Cyrillic, Greek or full-width letters are flagged with their code points', () => {
  const flagged: [string, string, RegExp][] = [
    ['DELETE FROM u\u0455ers', 'u\u0455ers', /U\+0455 Cyrillic/],
    ['SELECT * FROM r\u03bfot', 'r\u03bfot', /U\+03BF Greek/],
    ['SELECT * FROM \uff55sers', '\uff55sers', /U\+FF55 full-width/],
    ['DROP TABLE \uff55\uff53\uff45\uff52\uff53', '\uff55\uff53\uff45\uff52\uff53', /U\+FF55 full-width/],
    ['GRANT ALL TO \u0430dmin', '\u0430dmin', /U\+0430 Cyrillic/],
    ['SELECT \ud835\udc2e\ud835\udc2c\ud835\udc1e\ud835\udc2b from t', '\ud835\udc2e\ud835\udc2c\ud835\udc1e\ud835\udc2b', /U\+1D42E mathematical/],
  ];
  for (const [text, word, cp] of flagged) {
    const w = lookalikeWarning(text);
    assert.ok(w, text);
    assert.ok(w.includes(word), `${w} names ${word}`);
    assert.match(w, cp);
    assert.match(w, /look-alike/);
  }
  // Many texts, one line; each word once; the clean words are not listed.
  const both = lookalikeWarning('UPDATE orders SET total = 0', 'writes public.u\u0455ers', 'u\u0455ers again, and r\u03bfot');
  assert.ok(both);
  assert.equal(both.split('u\u0455ers').length - 1, 1, both);
  assert.match(both, /r\u03bfot/);
  assert.doesNotMatch(both, /orders|total|UPDATE/);
  // A zero-width character inside the word does not split it into innocent halves; it is shown.
  const zw = lookalikeWarning('DELETE FROM u\u200b\u0455\u200bers');
  assert.ok(zw);
  assert.match(zw, /u\\u\{200b\}\u0455\\u\{200b\}ers/);
  assert.ok(!/\u200b/.test(zw), 'no raw hidden character in the warning');
  // Single-script words in any script, digits and accents are fine.
  for (const clean of ['SELECT name, email FROM public.users WHERE id = 1', 'привет мир', 'Ελληνικά κείμενα', '東京タワー', 'café naïve façade', 'user_1 ２０２４', '']) {
    assert.equal(lookalikeWarning(clean), null, clean);
  }
});

let tmp: string;
const SQL = 'DELETE FROM u\u0455ers WHERE id = 1';
const fx = pendingSqlApproval(SQL, 'delete; writes public.u\u0455ers');

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'warden-lookalike-'));
});

after(async () => {
  rmSync(tmp, { recursive: true, force: true });
});

test('the UI approval card shows the look-alike warning', async () => {
  const svc = createApprovalService(fx.store().approvals);
  const page = String(await approvalsBody(svc as ApprovalReviewApi, 'csrf', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  const m = /<div class="lookalike">([^<]*)<\/div>/.exec(page);
  assert.ok(m, 'a warning block on the card');
  assert.match(m[1]!, /u\u0455ers/);
  assert.match(m[1]!, /U\+0455 Cyrillic/);
});

test('`warden approvals show` prints the look-alike warning', async () => {
  const show = await approvalsCli(['show', fx.id(), '--config', fx.dir().configPath]);
  assert.equal(show.code, 0, show.err);
  const line = show.out.split('\n').find((l) => /look-alike/.test(l));
  assert.ok(line, show.out);
  assert.match(line, /u\u0455ers/);
  assert.match(line, /U\+0455 Cyrillic/);
  const json = await approvalsCli(['show', fx.id(), '--json', '--config', fx.dir().configPath]);
  assert.equal((JSON.parse(json.out) as { call: { args: { sql: string } } }).call.args.sql, SQL, '--json keeps the exact text');
});

test('the elicitation prompt shows the look-alike warning', async () => {
  const row = await fx.store().approvals.get(fx.id());
  const m = confirmMessage(row!);
  assert.match(m, /look-alike[^\n]*u\u0455ers[^\n]*U\+0455 Cyrillic/);
});
