/**
 * End to end, red team: a command that drops or picks lines that are not one window (`grep -v
 * password`, `sed -n '2p;4p'`, `sed '/password/d'`, `awk 'NR==2||NR==5'`, `awk '!/password/'`,
 * `grep '^    '`, `sort -r`, `tac`) separated a `password: |` block scalar or a `private_key: |`
 * PEM from the name masking reads it by, and printed its lines bare after another name (or as
 * the value of a harmless block). Through a real sshd: the output of such a command is masked as
 * if every line could continue a value (line-windows.ts); named lines and a log's lines stay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAppFixture, type AppFixture } from '../support/ssh-warden.js';

const LEAK = 'hunter2';
let fx: AppFixture;
let APP = '';

const FIXTURES: Record<string, string> = {
  'app.yaml': 'db:\n  host: db.internal\n  password: |\n    hunter2-SEL-block\n    hunter2-SEL-second\n  port: 5432\n',
  'tls.yaml': 'tls:\n  note: |\n    public text\n  private_key: |\n    -----BEGIN PRIVATE KEY-----\n    hunter2SELpemBodyAAAAAAAAAAAAAAAA\n    -----END PRIVATE KEY-----\n',
  'app.log': '2024-05-01T10:00:00Z INFO start\n2024-05-01T10:00:01Z INFO ready\n2024-05-01T10:00:02Z WARN slow\n',
};

const call = (command: string) => fx.call(command);

before(async () => {
  fx = await startAppFixture('wsshsel-', FIXTURES, ['cat', 'grep', 'head', 'tail', 'sed', 'awk', 'sort', 'tac', 'uniq']);
  APP = fx.app;
});

after(async () => {
  await fx?.close();
});

describe('ssh_run: a line selection that drops the name of a value over several lines', () => {
  test('grep -v, sed d/!p/p;p, awk NR||NR and !/re/, sort -r, tac do not show a block value bare', async () => {
    const Y = `${APP}/app.yaml`;
    const T = `${APP}/tls.yaml`;
    const cmds = [
      `grep -v password ${Y}`,
      `grep -v -e password ${Y}`,
      `grep -rv password ${APP}`,
      `grep '^    ' ${Y}`,
      `grep -n -v password ${Y}`,
      `sed -n '2p;4p' ${Y}`,
      `sed '3d' ${Y}`,
      `sed '/password/d' ${Y}`,
      `sed -n '/private_key/!p' ${T}`,
      `sed '/private_key/d' ${T}`,
      `awk 'NR==2||NR==5' ${Y}`,
      `awk '!/password/' ${Y}`,
      `awk '!/private_key/' ${T}`,
      `sort -r ${Y}`,
      `tac ${T}`,
      `cat ${Y} | grep -v password`,
    ];
    const leaks: string[] = [];
    for (const cmd of cmds) {
      const r = await call(cmd);
      assert.equal(r.isError, false, `${cmd}: ${r.text}`);
      if (r.text.includes(LEAK) || !r.text.includes('***')) leaks.push(`${cmd} => ${r.text}`);
    }
    assert.deepEqual(leaks, []);
  });

  test('named lines and a log\'s lines of a selection stay', async () => {
    const a = await call(`grep -v WARN ${APP}/app.log`);
    assert.equal(a.isError, false, a.text);
    assert.match(a.text, /INFO start\\n2024-05-01T10:00:01Z INFO ready/);
    const b = await call(`grep -v password ${APP}/app.yaml`);
    assert.match(b.text, /host: db\.internal/);
    assert.match(b.text, /port: 5432/);
    const c = await call(`sed -n '2p;6p' ${APP}/app.yaml`);
    assert.match(c.text, /host: db\.internal\\n {2}port: 5432/);
  });
});
