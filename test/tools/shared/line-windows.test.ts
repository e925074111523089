/**
 * A line window (`tail -n 1`, `sed -n 4p`, `awk 'NR==4'`, `head | tail`) may start inside a value
 * that runs over lines, below the name masking reads it by (`password: |`, `private_key: |`).
 * When a command of the line prints a window, the output's leading run of continuation-shaped
 * lines is masked (line-windows.ts); a log's lines, a window starting at a name and a count
 * column (`uniq -c | sort -rn`) stay as they are.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, parseShell } from '../../../tools/shared/shell/index.js';
import { maskCommandOutput, maskWindowStart, printsLineSelection, printsLineWindow } from '../../../tools/shared/line-windows.js';

before(async () => {
  await initShellParser();
});

const win = (s: string) => maskWindowStart(s).text;

test('a leading run of indented, PEM or base64 lines is masked', () => {
  const cases: [string, string][] = [
    ['    hunter2-block\n', '    ***\n'],
    ['    hunter2-a\n\n    hunter2-b\n  port: 5432\n    not-leading\n', '    ***\n\n    ***\n  port: 5432\n    not-leading\n'],
    ['    -----BEGIN PRIVATE KEY-----\n    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n    -----END PRIVATE KEY-----\nnext: 1\n', '    ***\n    ***\n    ***\nnext: 1\n'],
    ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASC==\n-----END PRIVATE KEY-----"\nLOG_LEVEL=debug\n', '***\n***\nLOG_LEVEL=debug\n'],
    ['     4\t    hunter2\n     5\tport: 1\n', '     4\t    ***\n     5\tport: 1\n'], // behind cat -n
    ['      1     hunter2\n', '      1     ***\n'], // behind uniq -c
    ['\tat com.example.Main(Main.java:3)\n    hunter2\n', '\tat com.example.Main(Main.java:3)\n    hunter2\n'], // a trace frame ends the run (below)
  ];
  for (const [text, want] of cases) assert.equal(win(text), want, JSON.stringify(text));
});

test('stack trace frames are not continuation lines; a Python frame\'s source line and a block value still are', () => {
  const text = [
    'app.log:12:java.lang.NullPointerException',
    'app.log-13-\tat com.foo.Bar.baz(Bar.java:12)',
    'app.log-14-\tat com.foo.Bar$1.run(Unknown Source)',
    'app.log-15-\t... 3 more',
    'app.log-16-    at new Foo (/app/x.js:1:2)',
    'app.log-17-    at Object.<anonymous> (file:///app/x.mjs:10:3)',
    'app.log-18-    at node:internal/main:1:1',
    'app.log-19-  File "x.py", line 3, in f',
    'app.log-20-    return x / 0',
    'app.log-21-    hunter2-block',
    'app.log-22-    at hunter2 secret',
    '',
  ].join('\n');
  const out = maskWindowStart(text, true).text.split('\n');
  assert.deepEqual(out.slice(0, 8), text.split('\n').slice(0, 8));
  assert.deepEqual(out.slice(8, 11), ['app.log-20-    ***', 'app.log-21-    ***', 'app.log-22-    ***']);
  // A leading window: the frame ends the masked run, as a named line does.
  assert.equal(win('    hunter2\n\tat a.B.c(B.java:1)\n'), '    ***\n\tat a.B.c(B.java:1)\n');
});

test('a window starting at a name, a log line, a closing bracket or a count column stays', () => {
  for (const text of [
    '2024-05-01T10:00:00Z INFO start\n    indented later\n',
    '  host: db.internal\n  password: ***\n',
    '  - name: x\n',
    '  "a": 1\n}\n',
    '  }\n}\n',
    '[db]\nhost = x\n',
    '     12 ERROR timeout\n      3 WARN slow\n',
    '  1234 total\n',
    '  123 pts/0    00:00:00 bash\n',
    '    ***\n',
    '',
  ]) {
    assert.equal(win(text), text, JSON.stringify(text));
  }
});

test('which command lines print a window', () => {
  for (const cmd of ['tail -n 1 /a', 'head -n 4 /a | tail -n 1', "sed -n 4p /a", "awk 'NR==4' /a", 'tac /a', 'sort /a', 'sudo tail /a', 'ssh h tail -n 1 /a', '/usr/bin/tail /a']) {
    assert.equal(printsLineWindow(parseShell(cmd).commands), true, cmd);
  }
  for (const cmd of ['cat /a', 'head -n 4 /a', 'env']) assert.equal(printsLineWindow(parseShell(cmd).commands), false, cmd);
});

test('which command lines pick or reorder lines', () => {
  for (const cmd of ['grep -v x /a', 'cat /a | grep -n x', 'git grep x', "sed '/x/d' /a", "awk '!/x/' /a", 'sort -r /a', 'tac /a', 'uniq -u /a', 'xargs grep x']) {
    assert.equal(printsLineSelection(parseShell(cmd).commands), true, cmd);
  }
  for (const cmd of ['cat /a', 'head -n 4 /a', 'tail -n 1 /a', 'env']) assert.equal(printsLineSelection(parseShell(cmd).commands), false, cmd);
});

test('a selection: every continuation-shaped line is masked, behind grep\'s prefixes too', () => {
  const every = (s: string) => maskWindowStart(s, true).text;
  const cases: [string, string][] = [
    ['db:\n  host: db.internal\n    hunter2-a\n    hunter2-b\n  port: 5432\n', 'db:\n  host: db.internal\n    ***\n    ***\n  port: 5432\n'],
    ['  note: |\n    hunter2\n', '  note: |\n    ***\n'],
    ['tls:\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n', 'tls:\n    ***\n    ***\n'],
    ['1:db:\n2:  host: x\n4:    hunter2\n', '1:db:\n2:  host: x\n4:    ***\n'],
    ['/app/a.yaml:db:\n/app/a.yaml:    hunter2\n/app/b.log:INFO ok\n', '/app/a.yaml:db:\n/app/a.yaml:    ***\n/app/b.log:INFO ok\n'],
    ['2024-05-01 INFO start\n2024-05-01 WARN slow\n', '2024-05-01 INFO start\n2024-05-01 WARN slow\n'],
  ];
  for (const [text, want] of cases) assert.equal(every(text), want, JSON.stringify(text));
  const out = maskCommandOutput({ stdout: 'db:\n  host: x\n    hunter2\n', stderr: '' }, parseShell("grep -v password /a").commands);
  assert.equal(out.streams.stdout, 'db:\n  host: x\n    ***\n');
});

test('command output: masked by name first, and the window\'s leading lines only for a window program', () => {
  const out = '    hunter2-block\n  password: hunter2\n';
  const w = maskCommandOutput({ stdout: out, stderr: '' }, parseShell('tail -n 2 /a').commands);
  assert.equal(w.streams.stdout, '    ***\n  password: ***\n');
  assert.equal(w.masked, 2);
  const c = maskCommandOutput({ stdout: out, stderr: '' }, parseShell('cat /a').commands);
  assert.equal(c.streams.stdout, '    hunter2-block\n  password: ***\n');
});
