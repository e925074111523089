/**
 * A value that runs over lines (a `password: |` block scalar, a quoted .env value holding a PEM)
 * is masked by the lines after its name; a decoration on every line (`cat -n`, `nl`, `grep -n ''`,
 * grep's `FILE-4-` context lines, `cat -E`'s `$`) made those lines no continuation, and they were
 * shown. Now such output is also masked bare, and the bare text is used when that hides more;
 * one decorated line too (a `.netrc` or htpasswd line behind grep -n's `12:` was not read), and
 * behind `uniq -c` counts and diff markers; every reading of the decorations is tried.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskDecoratedStreams, undecorated } from '../../../tools/shared/line-decorations.js';

const mask = (s: string) => maskDecoratedStreams({ s }).streams.s;

/** Each text masks to what it names. */
function masksTo(cases: readonly [string, string][]): void {
  for (const [text, want] of cases) assert.equal(mask(text), want, JSON.stringify(text));
}

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

test('one decorated line whose format is read from the line\'s start (grep -n of one match) is masked bare', () => {
  const cases: [string, string][] = [
    ['12:machine api.example.com login alice password hunter2\n', 'machine api.example.com login alice password ***\n'],
    ['/root/.netrc:3:machine api.example.com login alice password hunter2\n', 'machine api.example.com login alice password ***\n'],
    ['4:[smtp.example.com]:587 alice:hunter2\n', '[smtp.example.com]:587 alice:***\n'],
    ['7:alice:$apr1$abc$hunter2hunter2\n', 'alice:***\n'],
    ['/etc/app/htpasswd:7:alice:$apr1$abc$hunter2hunter2', 'alice:***'],
  ];
  masksTo(cases);
  // One decorated line that hides nothing more bare keeps its decoration.
  assert.equal(mask('12:status ok\n'), '12:status ok\n');
  assert.equal(mask('2024-05-01 started\n'), '2024-05-01 started\n');
});

test('uniq -c counts and diff markers before a line-anchored format are read past; each reading of a line is tried', () => {
  const cases: [string, string][] = [
    ['      2 requirepass hunter2\n      1 port 6379\n', 'requirepass ***\nport 6379\n'],
    ['+machine api.example.com login alice password hunter2\n', 'machine api.example.com login alice password ***\n'],
    ['> bindpw hunter2\n', 'bindpw ***\n'],
    ['3c3\n< requirepass old\n---\n> requirepass hunter2\n', '3c3\nrequirepass ***\n---\nrequirepass ***\n'],
    ['--- a/redis.conf\n+++ b/redis.conf\n@@ -1,2 +1,2 @@\n port 6379\n-requirepass old\n+requirepass hunter2\n', '-- a/redis.conf\n++ b/redis.conf\n@@ -1,2 +1,2 @@\nport 6379\nrequirepass ***\nrequirepass ***\n'],
    // `:5432:` reads as grep's FILE:12: too: the pgpass reading hides more, so it is used.
    ['      2 localhost:5432:db:user:hunter2\n', 'localhost:5432:db:user:***\n'],
    ['> localhost:5432:db:user:hunter2\n', 'localhost:5432:db:user:***\n'],
    ['/etc/app/pgpass:localhost:5432:db:user:hunter2\n', 'localhost:5432:db:user:***\n'],
  ];
  masksTo(cases);
  // A diff that hides nothing more bare keeps its markers.
  assert.equal(mask(' port 6379\n-bind 0.0.0.0\n+bind 127.0.0.1\n'), ' port 6379\n-bind 0.0.0.0\n+bind 127.0.0.1\n');
  assert.equal(mask('      3 GET /index.html\n      1 POST /login\n'), '      3 GET /index.html\n      1 POST /login\n');
});

test("cat -A's and cat -T's ^I, and sed -n l's \\t, for a tab are read as one", () => {
  const cases: [string, string][] = [
    ['Password^Ihunter2$\n', 'Password\t***\n'],
    ['port 25$\npassword^Ihunter2^M$\n', 'port 25\npassword\t***\n'],
    ['requirepass\\thunter2$\n', 'requirepass\t***\n'],
    ['Password^Ihunter2\n', 'Password\t***\n'],
  ];
  masksTo(cases);
  assert.equal(mask('a^Ib$\n'), 'a^Ib$\n', 'nothing hidden: as shown');
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
  masksTo(cases);
  // Nothing more hidden bare: the prefixes stay.
  assert.equal(mask('/app/a.env:DB_PASSWORD=x\n/app/b.env:HOST=y\n'), '/app/a.env:DB_PASSWORD=***\n/app/b.env:HOST=y\n');
  // A YAML key is no file name: only a name with a `/` is taken off.
  assert.equal(undecorated('password: x\npassword-hint: y\n'), null);
});
