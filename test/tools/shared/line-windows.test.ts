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
import { maskCommandOutput, maskWindowStart, printsLineWindow } from '../../../tools/shared/line-windows.js';

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
    ['\tat com.example.Main(Main.java:3)\nERROR done\n', '\t***\nERROR done\n'], // a stack trace's leading lines go too
  ];
  for (const [text, want] of cases) assert.equal(win(text), want, JSON.stringify(text));
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
  for (const cmd of ['cat /a', 'head -n 4 /a', 'grep -n x /a', 'env']) assert.equal(printsLineWindow(parseShell(cmd).commands), false, cmd);
});

test('command output: masked by name first, and the window\'s leading lines only for a window program', () => {
  const out = '    hunter2-block\n  password: hunter2\n';
  const w = maskCommandOutput({ stdout: out, stderr: '' }, parseShell('tail -n 2 /a').commands);
  assert.equal(w.streams.stdout, '    ***\n  password: ***\n');
  assert.equal(w.masked, 2);
  const c = maskCommandOutput({ stdout: out, stderr: '' }, parseShell('cat /a').commands);
  assert.equal(c.streams.stdout, '    hunter2-block\n  password: ***\n');
});
