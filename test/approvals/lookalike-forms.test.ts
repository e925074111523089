/**
 * Look-alikes within the Latin script: a word written decomposed (`José` as `e` + U+0301, which
 * PostgreSQL compares byte for byte, so `'José'` in NFD matches other rows than the NFC `'José'`,
 * and a quoted "café" in NFD names another table), or with a compatibility letter that reads as
 * plain ASCII (the Kelvin sign `K` in `Keys`, the `ﬁ` ligature in `ﬁles`, the long `ſ`), draws as
 * the word a reviewer expects and is another text to the backend. The mixed-script check passed
 * all of these (one script: Latin). Every reviewer view (UI card, `warden approvals show`, the
 * elicitation prompt) now flags them, through the one shared helper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookalikeWarning } from '../../src/approvals/reviewable.js';
import { confirmMessage, createApprovalService } from '../../src/approvals/index.js';
import { approvalsBody } from '../../src/ui/approvals-page.js';
import type { ApprovalReviewApi } from '../../src/approvals/review-api.js';
import { approvalsCli } from './support.js';
import { pendingSqlApproval } from './pending-sql.js';

test('decomposed words and ASCII-reading compatibility letters are flagged with their code points', () => {
  const flagged: [string, string, RegExp][] = [
    ["DELETE FROM customers WHERE name <> 'Jose\u0301'", 'Jose\u0301', /U\+0301.*decomposed/],
    ['DROP TABLE "cafe\u0301_backup"', 'cafe\u0301_backup', /U\+0301.*decomposed/],
    ['DELETE FROM \u212aeys', '\u212aeys', /U\+212A.*"Keys"/],
    ['TRUNCATE \ufb01les', '\ufb01les', /U\+FB01.*"fi"/],
    ['SELECT * FROM \u017fecrets', '\u017fecrets', /U\+017F.*"s"/],
  ];
  for (const [text, word, why] of flagged) {
    const w = lookalikeWarning(text);
    assert.ok(w, text);
    assert.ok(w.includes(word), `${w} names ${word}`);
    assert.match(w, why);
    assert.match(w, /look-alike/);
  }
  // Composed (NFC) accents, other scripts, ordinals and full-width digits stay unflagged.
  for (const clean of ["WHERE name = 'Jos\u00e9'", 'caf\u00e9 na\u00efve fa\u00e7ade', '1\u00aa 2\u00ba', '\u6771\u4eac\u30bf\u30ef\u30fc', '\uff8a\uff9d\uff76\uff78', 'user_1 \uff12\uff10\uff12\uff14']) {
    assert.equal(lookalikeWarning(clean), null, clean);
  }
});

const SQL = "DELETE FROM customers WHERE name <> 'Jose\u0301'";
const fx = pendingSqlApproval(SQL, 'delete; writes public.customers');

test('the UI approval card flags a decomposed literal', async () => {
  const svc = createApprovalService(fx.store().approvals);
  const page = String(await approvalsBody(svc as ApprovalReviewApi, 'csrf', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  const m = /<div class="lookalike">([^<]*)<\/div>/.exec(page);
  assert.ok(m, 'a warning block on the card');
  assert.match(m[1]!, /U\+0301/);
  assert.match(m[1]!, /decomposed/);
});

test('`warden approvals show` and the elicitation prompt flag a decomposed literal', async () => {
  const show = await approvalsCli(['show', fx.id(), '--config', fx.dir().configPath]);
  assert.equal(show.code, 0, show.err);
  const line = show.out.split('\n').find((l) => /look-alike/.test(l));
  assert.ok(line, show.out);
  assert.match(line, /U\+0301.*decomposed/);
  const json = await approvalsCli(['show', fx.id(), '--json', '--config', fx.dir().configPath]);
  assert.equal((JSON.parse(json.out) as { call: { args: { sql: string } } }).call.args.sql, SQL, '--json keeps the exact text');
  assert.match(confirmMessage((await fx.store().approvals.get(fx.id()))!), /look-alike[^\n]*U\+0301[^\n]*decomposed/);
});
