/**
 * The canonical form of SQL (the deny cooldown's key): the statement's tokens joined by single spaces, keywords and unquoted
 * identifiers folded (PostgreSQL folds them anyway), string literals and quoted identifiers kept
 * exactly as written. Independent of whitespace, comments and keyword case; facts.sql (the text
 * PostgreSQL receives) is untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { canonicalSql } from '../../../tools/postgres/analysis/canonical-form.js';

/** As the gate gets it: the analysed statement's text (facts.sql), canonicalised. */
const canon = (sql: string) => canonicalSql(analyzeSql(sql).sql);

test('whitespace, comments, keyword case and a trailing semicolon do not change the canonical form', () => {
  const base = canon("UPDATE orders SET total = 1 WHERE note = 'A  b'");
  assert.equal(base, "update orders set total = 1 where note = 'A  b'");
  for (const s of [
    "update   orders\n set total=1 where NOTE = 'A  b';",
    "UPDATE /* hi /* nested */ */ orders SET total = 1 -- x\n WHERE note = 'A  b'",
    "Update Orders Set Total = 1 Where Note = 'A  b'  ;  ",
  ]) assert.equal(canon(s), base, s);
});

test('string literals, quoted identifiers, numbers and parameters are kept apart', () => {
  const base = canon("SELECT * FROM t WHERE a = 'x'");
  assert.notEqual(canon("SELECT * FROM t WHERE a = 'X'"), base);
  assert.notEqual(canon("SELECT * FROM \"T\" WHERE a = 'x'"), base);
  assert.notEqual(canon("SELECT * FROM t WHERE a = E'x\\n'"), canon("SELECT * FROM t WHERE a = 'x\\n'"));
  assert.equal(canon('SELECT "A b" FROM t'), 'select "A b" from t');
  assert.notEqual(canon('SELECT * FROM t WHERE a = $1'), canon('SELECT * FROM t WHERE a = $2'));
  assert.notEqual(canon('SELECT * FROM t LIMIT 1'), canon('SELECT * FROM t LIMIT 10'));
  assert.equal(canon('SELECT a.b FROM s.t AS a'), 'select a . b from s . t as a');
});

test('facts.sql stays the exact text sent to PostgreSQL', () => {
  const f = analyzeSql('  SELECT /* keep */  1 ;');
  assert.equal(f.sql, 'SELECT /* keep */  1');
  assert.equal(canonicalSql(f.sql), 'select 1');
});
