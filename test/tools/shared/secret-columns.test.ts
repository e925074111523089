/**
 * secret-columns.ts through maskSecretText (as ssh_run and kubectl_exec mask output): a column
 * whose header names a secret loses its values in each table form (psql's, as printed by psql
 * 16, mysql's and sqlite's boxes, Markdown, a tab-separated file), a row the reader cannot place
 * is masked whole, and text that is no such table, a table without a secret column and a count
 * column stay as they were. The reader stays linear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { assertLinear } from '../../support/best-of.js';

const masks = (pairs: [string, string][]) => {
  for (const [text, want] of pairs) {
    const count = { n: 0 };
    assert.equal(maskSecretText(text, count), want, text);
    assert.ok(count.n > 0, `counted: ${text}`);
  }
};
const same = (texts: string[]) => {
  for (const text of texts) assert.equal(maskSecretText(text), text, text);
};

test('aligned tables: psql borders 0, 1 and 2, Unicode lines, wrapped and multi-line cells', () => {
  masks([
    [' id | name  | password | api_key\n----+-------+----------+---------\n  1 | alice | pw-1     | k-1\n(1 row)\n',
      ' id | name  | password | api_key\n----+-------+----------+---------\n  1 | alice | ***      | ***\n(1 row)\n'],
    ['+----+----------+\n| id | password |\n+----+----------+\n|  1 | pw-2     |\n+----+----------+\n',
      '+----+----------+\n| id | password |\n+----+----------+\n|  1 | ***      |\n+----+----------+\n'],
    ['id password\n-- --------\n 1 pw-3\n', 'id password\n-- --------\n 1 ***\n'],
    [' id │ token\n────┼──────\n  1 │ t-4\n', ' id │ token\n────┼──────\n  1 │ ***\n'],
    // Wrapped (`.` marks) and a newline in a value (`+`): each continuation line is masked.
    [' id | password  | note\n----+-----------+-----\n  1 | averylong.| x\n    |.pw-5      | \n  2 | line1    +| y\n    | line2     | \n',
      ' id | password  | note\n----+-----------+-----\n  1 | ***       | x\n    |***        | \n  2 | ***       | y\n    | ***       | \n'],
    // A `|` in a value keeps the rule's places; a wide character moves them: split at separators.
    [' id | password | name\n----+----------+------\n  1 | a|b      | 中文\n  2 | pw-6     | 中文\n',
      ' id | password | name\n----+----------+------\n  1 | ***      | 中文\n  2 | ***      | 中文\n'],
    [' name | password\n------+---------\n 中文 | pw-7\n', ' name | password\n------+---------\n 中文 | *** \n'],
    // Neither places nor separators fit: the row is masked whole.
    [' name | password\n------+---------\n 中文 | a|pw-8\n', ' name | password\n------+---------\n***\n'],
  ]);
});

test('expanded records: psql -x in each border, and \\x auto output', () => {
  masks([
    ['-[ RECORD 1 ]---\nid       | 1\npassword | pw-1\n         | pw-1b\napi_key  | k-1\nname     | alice\n',
      '-[ RECORD 1 ]---\nid       | 1\npassword | ***\n         | ***\napi_key  | ***\nname     | alice\n'],
    ['+-[ RECORD 1 ]-----+\n| id       | 1    |\n| password | pw-2 |\n+----------+------+\n',
      '+-[ RECORD 1 ]-----+\n| id       | 1    |\n| password | ***\n+----------+------+\n'],
    ['* Record 1\nid       1\nsecret   pw-3\nname     bob\n', '* Record 1\nid       1\nsecret   ***\nname     bob\n'],
  ]);
});

test('unaligned and CSV: -A with |, -F , ; and a tab, --csv quoting, -A -x records', () => {
  masks([
    ['id|name|password\n1|alice|pw-1\n(1 row)\n', 'id|name|password\n1|alice|***\n(1 row)\n'],
    ['id,name,password\n1,alice,pw-2\n', 'id,name,password\n1,alice,***\n'],
    ['id;password;name\n1;pw-3;bob\n', 'id;password;name\n1;***;bob\n'],
    ['id\tpassword\tname\n1\tpw-4\tbob\n', 'id\tpassword\tname\n1\t***\tbob\n'],
    ['id,name,password\n2,"bob, jr","pw,5"\n3,carol,"line1\nline2"\n4,dan,x\n', 'id,name,password\n2,"bob, jr","***"\n3,carol,"***"\n4,dan,***\n'],
    // Another cell count (a separator or a line break in an unquoted value): the row is masked whole.
    ['id|password|name\n1|a|b|bob\n2|multi\nline|carol\n', 'id|password|name\n***\n***\n***\n'],
    ['id|1\nname|alice\npassword|p@ss 6\nnote|x\n\nid|2\npassword|multi\nsecond\nnote|y\n', 'id|1\nname|alice\npassword|***\nnote|x\n\nid|2\npassword|***\n***\n***|y\n'],
    // A field whose value could be a column name reads as a two-column header too: the lines
    // below lose their first cell (fail closed; a table under `password|email` holds passwords there).
    ['password|hunter2\nnote|x\n', 'password|***\n***|x\n'],
  ]);
  // `-A -x -F` a tab: every secret field's value hidden, an ini line's `=` kept.
  const tab = maskSecretText('id\t1\npassword\thunter2\napi_key\tk-1\n');
  assert.ok(!tab.includes('hunter2') && !tab.includes('k-1'), tab);
  assert.equal(maskSecretText('[db]\npassword\t=\thunter2\n'), '[db]\npassword\t=\t***\n');
});

test('mysql, sqlite boxes and Markdown tables', () => {
  masks([
    ['+----+-----------+\n| id | api_token |\n+----+-----------+\n|  1 | t-1       |\n+----+-----------+\n1 row in set (0.00 sec)\n',
      '+----+-----------+\n| id | api_token |\n+----+-----------+\n|  1 | ***       |\n+----+-----------+\n1 row in set (0.00 sec)\n'],
    ['┌────┬──────────┐\n│ id │ password │\n├────┼──────────┤\n│ 1  │ pw-2     │\n└────┴──────────┘\n',
      '┌────┬──────────┐\n│ id │ password │\n├────┼──────────┤\n│ 1  │ ***      │\n└────┴──────────┘\n'],
    ['| user | password |\n|------|----------|\n| a | pw-3 |\n', '| user | password |\n|------|----------|\n| a | ***  |\n'],
  ]);
});

test('no secret column, a count column, and text that is no table stay as they were', () => {
  same([
    ' id | name\n----+------\n  1 | alice\n(1 row)\n',
    ' id | token_count\n----+------------\n  1 |          12\n',
    'id,token_count,name\n1,12,bob\n',
    '-[ RECORD 1 ]\nid          | 1\nmax_tokens  | 4096\n',
    '  Column  |  Type   | Nullable\n----------+---------+---------\n id       | integer | not null\n password | text    | \n',
    'a,b,c\n1,2,3\n',
    '---\ntitle: x\n---\nbody\n',
    'X-Auth-Request-User, X-Auth-Request-Email',
    'Token, please.\nPassword; again\n',
    'diff --git a/x b/x\n--- a/x\n+++ b/x\n',
  ]);
});

test('the table reader stays linear', () => {
  const mask = (t: string) => maskSecretText(t);
  assertLinear('aligned rows', (n) => ' id | password\n----+---------\n' + '  1 | pw\n'.repeat(n / 10), mask);
  assertLinear('unaligned rows', (n) => 'id|password\n' + '1|pw\n'.repeat(n / 5), mask);
  assertLinear('open CSV quotes', (n) => 'id,password\n' + '1,"a\n'.repeat(n / 5), mask);
  assertLinear('headers', (n) => 'id|password\n'.repeat(n / 12), mask);
  assertLinear('records', (n) => '-[ RECORD 1 ]-\npassword | x\n'.repeat(n / 28), mask);
  assertLinear('named lines', (n) => 'password|x\nline\n'.repeat(n / 16), mask);
});
