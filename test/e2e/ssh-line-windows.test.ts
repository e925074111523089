/**
 * End to end, red team: masking reads a value that runs over lines (a `password: |` block scalar,
 * a `private_key: |` PEM) by the name on the line before it. A line window that starts inside
 * such a value (`tail -n 1`, `head -n 4 | tail -n 1`, `sed -n 4p`, `awk 'NR==4'`) printed its
 * continuation lines without the name, and so did grep's context lines over several files
 * (`grep -r -A1 password: DIR`: `FILE:  password: |` then `FILE-    value`, a prefix with no line
 * number). Through a real sshd: now a window's leading run of continuation-shaped lines is masked
 * (line-windows.ts) and grep's `FILE:`/`FILE-` prefixes are read like its numbered ones
 * (line-decorations.ts); a log's window still shows its lines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAppFixture, type AppFixture } from '../support/ssh-warden.js';

const LEAK = 'hunter2';
let fx: AppFixture;
let APP = '';

const FIXTURES: Record<string, string> = {
  'app.yaml': 'db:\n  host: db.internal\n  password: |\n    hunter2-WIN-block\n    hunter2-WIN-second\n',
  'tls.yaml': 'tls:\n  private_key: |\n    -----BEGIN PRIVATE KEY-----\n    hunter2WINpemBodyAAAAAAAAAAAAAAAA\n    -----END PRIVATE KEY-----\n',
  'app.log': '2024-05-01T10:00:00Z INFO start\n2024-05-01T10:00:01Z INFO ready\n2024-05-01T10:00:02Z WARN slow\n',
};

const call = (command: string) => fx.call(command);

before(async () => {
  fx = await startAppFixture('wsshwin-', FIXTURES, ['cat', 'grep', 'head', 'tail', 'sed', 'awk']);
  APP = fx.app;
});

after(async () => {
  await fx?.close();
});

describe('ssh_run: a line window that starts inside a value over several lines', () => {
  test('tail, head | tail, sed -n and awk NR windows do not show a block value without its name', async () => {
    const cmds = [
      `tail -n 1 ${APP}/app.yaml`,
      `tail -n 2 ${APP}/app.yaml`,
      `tail -n +4 ${APP}/app.yaml`,
      `tail -1 ${APP}/app.yaml`,
      `head -n 4 ${APP}/app.yaml | tail -n 1`,
      `cat ${APP}/app.yaml | tail -n 2`,
      `sed -n 4p ${APP}/app.yaml`,
      `sed -n '4,5p' ${APP}/app.yaml`,
      `awk 'NR==4' ${APP}/app.yaml`,
      `awk 'NR>3' ${APP}/app.yaml`,
      `tail -n 2 ${APP}/tls.yaml`,
      `tail -n 3 ${APP}/tls.yaml`,
    ];
    for (const cmd of cmds) {
      const r = await call(cmd);
      assert.equal(r.isError, false, `${cmd}: ${r.text}`);
      assert.ok(!r.text.includes(LEAK), `${cmd} leaks: ${r.text}`);
      assert.match(r.text, /\*\*\*/, cmd);
    }
  });

  test('a window that starts at a name, or a log window, shows its lines', async () => {
    const a = await call(`tail -n 3 ${APP}/app.log`);
    assert.equal(a.isError, false, a.text);
    assert.match(a.text, /INFO start\\n2024-05-01T10:00:01Z INFO ready\\n2024-05-01T10:00:02Z WARN slow/);
    const b = await call(`tail -n 4 ${APP}/app.yaml`);
    assert.match(b.text, /host: db\.internal\\n {2}password: \*\*\*/);
    assert.ok(!b.text.includes(LEAK), b.text);
    const c = await call(`sed -n 2p ${APP}/app.yaml`);
    assert.match(c.text, /host: db\.internal/);
  });
});

describe('ssh_run: grep context lines over several files', () => {
  // Every file named: a read of the folder's whole tree (grep -r) is refused (shell/secret-files.ts).
  test('grep -A1 over several files does not show the value on the line after its name', async () => {
    const all = Object.keys(FIXTURES).map((f) => `${APP}/${f}`).join(' ');
    for (const cmd of [`grep -A1 password: ${all}`, `grep -A2 private_key: ${all}`, `grep -A1 password: ${APP}/app.yaml ${APP}/app.log`, `grep -H -A1 password: ${APP}/app.yaml`]) {
      const r = await call(cmd);
      assert.equal(r.isError, false, `${cmd}: ${r.text}`);
      assert.ok(!r.text.includes(LEAK), `${cmd} leaks: ${r.text}`);
      assert.match(r.text, /password: \*\*\*|private_key: \*\*\*/, cmd);
    }
  });
});
