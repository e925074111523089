/**
 * End to end, red team: a password given to a program on its command line is masked in ssh_run
 * output when the line is a shell line (`app --db-password X`, `mysqldump -pX`, `sshpass -p X`),
 * and in kubectl_get when a container's command and args are one argv. The same argv written as
 * a list in a file on the host (a Kubernetes manifest's `args:` block sequence, a compose or
 * Dockerfile exec form `["app", "--db-password", "X"]`, docker inspect's `"Args": [` one string a
 * line, `strings` of a NUL-separated file) was shown bare: `cat` of a deployment.yaml under a grant
 * of cat on its folder printed it. Through a real sshd: now the items of such lists are read as an
 * argv (argv-lists.ts) and the password is masked; lists without secrets are shown as they are.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAppFixture, type AppFixture } from '../support/ssh-warden.js';

const LEAK = 'hunter2';
let fx: AppFixture;
let APP = '';

const FIXTURES: Record<string, string> = {
  'deploy.yaml': [
    'spec:',
    '  containers:',
    '    - name: app',
    '      image: app:1.2',
    '      args:',
    '        - --db-password',
    '        - hunter2-yaml-block',
    '        - --port',
    '        - "8080"',
    '    - name: backup',
    '      command:',
    '        - mysqldump',
    '        - -uroot',
    "        - '-phunter2-quoted-item'",
    '        - shop',
    '',
  ].join('\n'),
  'compose.yaml': 'services:\n  app:\n    command: ["app", "--db-password", "hunter2-flow-list"]\n  tunnel:\n    command: [sshpass, -p, hunter2-plain-flow, ssh, db]\n',
  'Dockerfile': 'FROM app:1.2\nCMD ["mysql", "-uroot", "-phunter2-exec-form", "shop"]\n',
  'inspect.json': '[\n  {\n    "Path": "app",\n    "Args": [\n      "--api-token",\n      "hunter2-json-lines"\n    ]\n  }\n]\n',
  'ok.yaml': 'args:\n  - --port\n  - "8080"\n  - --log-level\n  - debug\nports: [80, 443]\n',
};

before(async () => {
  fx = await startAppFixture('wsshargv-', FIXTURES, ['cat', 'grep']);
  APP = fx.app;
});

after(async () => {
  await fx?.close();
});

describe('ssh_run: a password in an argv written as a list in a file', () => {
  test('a block sequence (manifest args:, command:) masks the value after a secret flag and a program\'s password flag', async () => {
    const r = await fx.call(`cat ${APP}/deploy.yaml`);
    assert.equal(r.isError, false, r.text);
    assert.doesNotMatch(r.text, new RegExp(LEAK), r.text);
    assert.match(r.text, /- --db-password\\n {8}- \*\*\*/, 'the flag stays, its value is masked');
    assert.match(r.text, /- '-p\*\*\*'/, 'mysqldump -p keeps its flag and quotes');
    assert.match(r.text, /- --port\\n {8}- \\"8080\\"/, 'other items are shown');
  });

  test('flow lists and exec forms on one line, and JSON arrays one string a line, are masked', async () => {
    for (const f of ['compose.yaml', 'Dockerfile', 'inspect.json']) {
      const r = await fx.call(`cat ${APP}/${f}`);
      assert.equal(r.isError, false, r.text);
      assert.doesNotMatch(r.text, new RegExp(LEAK), `${f}: ${r.text}`);
      assert.match(r.text, /\*\*\*/, f);
    }
  });

  test('grep of the flag line and the value line (one item a line, prefixed) is masked too', async () => {
    const r = await fx.call(`grep -A1 -e --db-password ${APP}/deploy.yaml`);
    assert.equal(r.isError, false, r.text);
    assert.doesNotMatch(r.text, new RegExp(LEAK), r.text);
  });

  test('a list without a secret is shown as it is', async () => {
    const r = await fx.call(`cat ${APP}/ok.yaml`);
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /- --port\\n {2}- \\"8080\\"\\n {2}- --log-level\\n {2}- debug\\nports: \[80, 443\]/, r.text);
    assert.doesNotMatch(r.text, /\*\*\*/, r.text);
  });
});
