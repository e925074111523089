/**
 * kubectl_exec, red team: a line window (`tail -n 1`, `sed -n 4p`) of a pod's YAML file started
 * inside a `password: |` block and showed its lines without the name masking reads them by, and
 * `grep -r -A1 password: /app` showed the value on the context line `FILE-    value`. Now the
 * window's leading continuation lines are masked (line-windows.ts) and grep's file prefixes read
 * (line-decorations.ts), as in ssh_run. Through `warden serve` and the test API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube, webPodShellRule } from '../support/kube-apiserver/warden-setup.js';

const LEAK = 'hunter2';
let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
${webPodShellRule('sre-pods', ['cat', 'grep', 'head', 'tail', 'sed'], ['/app'])}`;

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.addPod({
    namespace: 'shop',
    name: 'web-9',
    labels: { app: 'web' },
    containers: [{ name: 'app' }],
    files: { '/app/app.yaml': 'db:\n  host: db.internal\n  password: |\n    hunter2-KWIN-block\n', '/app/app.log': 'INFO one\nINFO two\n' },
  });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (command: string[]) => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'web-9', container: 'app', command });

test('a window or grep context line starting inside a block value shows no value', async () => {
  for (const command of [['tail', '-n', '1', '/app/app.yaml'], ['sed', '-n', '4p', '/app/app.yaml'], ['sh', '-c', 'head -n 4 /app/app.yaml | tail -n 1'],
    ['grep', '-A1', 'password:', '/app/app.yaml', '/app/app.log']]) {
    const r = await exec(command);
    assert.equal(r.isError, false, `${command.join(' ')}: ${r.text}`);
    assert.ok(!r.text.includes(LEAK), `${command.join(' ')} leaks: ${r.text}`);
    assert.match(r.text, /\*\*\*/);
  }
  const log = await exec(['tail', '-n', '2', '/app/app.log']);
  assert.match(log.text, /INFO one\nINFO two/);
});

test('nothing of it reaches the transcript', () => {
  assert.ok(!dumpTranscript(dir.dbPath).includes(LEAK));
});
