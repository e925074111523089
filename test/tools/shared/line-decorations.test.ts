/**
 * A value that runs over lines (a `password: |` block scalar, a quoted .env value holding a PEM)
 * is masked by the lines after its name; a decoration on every line (`cat -n`, `nl`, `grep -n ''`,
 * grep's `FILE-4-` context lines, `cat -E`'s `$`) made those lines no continuation, and they were
 * shown. Now such output is also masked bare, and the bare text is used when that hides more.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskDecoratedStreams, undecorated } from '../../../tools/shared/line-decorations.js';

const mask = (s: string) => maskDecoratedStreams({ s }).streams.s;

test('a block or quoted value behind decorated lines is masked whole', () => {
  const cases: [string, string][] = [
    ['     1\tpassword: |\n     2\t  hunter2\n     3\t  more\n     4\tother: 1\n', 'password: ***\nother: 1\n'],
    ['password: |$\n  hunter2$\nother: 1$\n', 'password: ***\nother: 1\n'],
    ['     1\tDB_PASSWORD="-----BEGIN KEY-----\n     2\thunter2\n     3\t-----END KEY-----"\n', 'DB_PASSWORD=***\n'],
    ['1:a: 1\n2:password: |\n3:  hunter2\n', 'a: 1\npassword: ***\n'],
    ['/srv/a.yaml:3:password: |\n/srv/a.yaml-4-  hunter2\n--\n/srv/b.yaml-9-x: 1\n', 'password: ***\nx: 1\n'],
    ['\x1b[32m1\x1b[m\x1b[36m:\x1b[mpassword: |\n\x1b[32m2\x1b[m\x1b[36m-\x1b[m  hunter2\n', 'password: ***\n'],
  ];
  for (const [text, want] of cases) {
    assert.equal(mask(text), want, JSON.stringify(text));
    assert.ok(!mask(text).includes('hunter2'));
  }
});

test('decorated output that hides nothing more keeps its decorations', () => {
  for (const text of ['     1\thost: x\n     2\tport: 5\n', '     1\tDB_PASSWORD=x\n     2\tA=b\n', '2024-05-01 a\n2024-05-02 b\n', '3:password = x\n', 'plain\ntext\n']) {
    const want = text.replace('DB_PASSWORD=x', 'DB_PASSWORD=***').replace('password = x', 'password = ***');
    assert.equal(mask(text), want, JSON.stringify(text));
  }
  assert.equal(undecorated('a\nb\n'), null);
  assert.equal(undecorated('     1\ta\n\n     3\tb\n'), 'a\n\nb\n');
});

test("grep's FILE: and FILE- prefixes without line numbers (grep -r -A1) are read like numbered ones", () => {
  const cases: [string, string][] = [
    ['/app/a.yaml:  password: |\n/app/a.yaml-    hunter2\n/app/a.yaml-  port: 1\n', '  password: ***\n  port: 1\n'],
    ['/app/my-app.yaml:  private_key: |\n/app/my-app.yaml-    hunter2\n--\n/app/b.yaml:password: |\n/app/b.yaml-  hunter2\n', '  private_key: ***\npassword: ***\n'],
  ];
  for (const [text, want] of cases) assert.equal(mask(text), want, JSON.stringify(text));
  // Nothing more hidden bare: the prefixes stay.
  assert.equal(mask('/app/a.env:DB_PASSWORD=x\n/app/b.env:HOST=y\n'), '/app/a.env:DB_PASSWORD=***\n/app/b.env:HOST=y\n');
  // A YAML key is no file name: only a name with a `/` is taken off.
  assert.equal(undecorated('password: x\npassword-hint: y\n'), null);
});
