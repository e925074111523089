/**
 * Red team (reviewer deception): the look-alike check knew Cyrillic, Greek, full-width and
 * mathematical letters only. Latin's own phonetic letters (`ɑ` U+0251 in `bob@exɑmple.com`, the
 * small capital `ᴜ` in `ᴜsers`, the click `ǀ` that reads as `l`) and letters of the other scripts
 * drawn like Latin ones (Armenian `օ` and `ս`, Cherokee `Ꭺ`, Lisu `ꓐ`, Coptic `ⲟ`, Hebrew `ו`)
 * passed unflagged, so `UPDATE users SET role = 'admin' WHERE email = 'bob@exɑmple.com'` read
 * as granting a known colleague while it granted the agent's own account. A word mixing Latin
 * letters with any other script's (CJK aside), or with phonetic Latin letters, is flagged, on the
 * UI card and in `warden approvals show` alike (one shared helper).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookalikeWarning } from '../../src/approvals/reviewable.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { approvalsBody } from '../../src/ui/approvals-page.js';
import type { ApprovalReviewApi } from '../../src/approvals/review-api.js';
import { approvalsCli } from './support.js';
import { pendingSqlApproval } from './pending-sql.js';

test('words mixing Latin with phonetic Latin or with any other script\'s letters are flagged', () => {
  const flagged: [string, string, RegExp][] = [
    ["WHERE email = 'bob@ex\u0251mple.com'", 'ex\u0251mple', /U\+0251/],
    ['DELETE FROM \u1d1csers', '\u1d1csers', /U\+1D1C/],
    ['DROP TABLE a\u01c0b', 'a\u01c0b', /U\+01C0/],
    ['DELETE FROM \u057dsers', '\u057dsers', /U\+057D Armenian/],
    ['GRANT ALL TO r\u0585ot', 'r\u0585ot', /U\+0585 Armenian/],
    ['GRANT ALL TO \u13aadmin', '\u13aadmin', /U\+13AA Cherokee/],
    ['DELETE FROM \ua4d0ob', '\ua4d0ob', /U\+A4D0/],
    ['DELETE FROM \u2c9fps', '\u2c9fps', /U\+2C9F/],
    ['UPDATE t SET x = 1 WHERE name = \'pau\u05d5\'', 'pau\u05d5', /U\+05D5/],
  ];
  for (const [text, word, cp] of flagged) {
    const w = lookalikeWarning(text);
    assert.ok(w, text);
    assert.ok(w.includes(word), `${w} names ${word}`);
    assert.match(w, cp);
  }
  // Real text stays clean: accented and European letters, single-script words in any script,
  // CJK beside Latin, an IPA transcription on its own.
  for (const clean of ['café naïve façade Straße Łódź Ærøskøbing șir', 'привет мир', 'Ելք', 'שלום עולם', '東京タワー', 'Tシャツ 3D映像', '\u0251\u026a', 'SELECT 1']) {
    assert.equal(lookalikeWarning(clean), null, clean);
  }
});

const SQL = "UPDATE users SET role = 'admin' WHERE email = 'bob@ex\u0251mple.com'";
const fx = pendingSqlApproval(SQL, 'update; writes public.users');

test('the UI card and `warden approvals show` flag a phonetic-Latin look-alike in a literal', async () => {
  const svc = createApprovalService(fx.store().approvals);
  const page = String(await approvalsBody(svc as ApprovalReviewApi, 'csrf', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  const m = /<div class="lookalike">([^<]*)<\/div>/.exec(page);
  assert.ok(m, 'a warning block on the card');
  assert.match(m[1]!, /ex\u0251mple/);
  const show = await approvalsCli(['show', fx.id(), '--config', fx.dir().configPath]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /warning:[^\n]*look-alike[^\n]*ex\u0251mple[^\n]*U\+0251/);
});
