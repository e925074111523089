/**
 * kubectl_exec, red team: each key of a Secret volume is a file whose content is the bare value,
 * so `cat /etc/db-creds/password` under a grant of `cat` over `/etc` printed the database
 * password as it is (output masking reads names; this file has none). kubectl_exec reads the pod
 * spec before the decision: a read under a Secret volume's mountPath (or a projected token's) is
 * now refused, naming the file, unless the grant's paths: name it (kubernetes/secret-mounts.ts,
 * shared/shell/secret-files.ts). Through `warden serve` and the test API server.
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
${webPodShellRule('sre-pods', ['cat', 'grep', 'tar', 'zip'], ['/etc', '/app'])}${
  webPodShellRule('sre-list', ['ls'], ['/etc'])
}  - id: sre-named
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { app: named }, containers: [app] }
    shell:
      programs:
        cat: { paths: [/etc/db-creds] }
`;

const FILES = { '/etc/db-creds/password': 'hunter2-KVOL-pw', '/etc/db-creds/username': 'app', '/etc/app/app.conf': 'port=8080\n' };

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  // dbl-1 spells its mountPath with doubled slashes and a `.`, which the kubelet cleans.
  for (const [name, app, mountPath] of [['web-7', 'web', '/etc/db-creds'], ['named-1', 'named', '/etc/db-creds'], ['dbl-1', 'web', '//etc//db-creds/./']] as const) {
    const pod = server.store.addPod({ namespace: 'shop', name, labels: { app }, containers: [{ name: 'app' }], files: FILES }) as unknown as {
      spec: { containers: Record<string, unknown>[]; volumes?: unknown[] };
    };
    pod.spec.volumes = [{ name: 'creds', secret: { secretName: 'db-creds' } }];
    Object.assign(pod.spec.containers[0]!, { volumeMounts: [{ name: 'creds', mountPath, readOnly: true }] });
  }
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (command: string[], pod = 'web-7') => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod, container: 'app', command });

test("a read under a Secret volume's mountPath is refused, naming the file; other files and listings still run", async () => {
  for (const command of [['cat', '/etc/db-creds/password'], ['grep', '-r', '.', '/etc'], ['sh', '-c', 'cat /etc/db-creds/password | grep h']]) {
    const r = await exec(command);
    assert.equal(r.isError, true, `${command.join(' ')}: ${r.text}`);
    assert.match(r.text, /WARDEN_DENIED/);
    assert.match(r.text, /itself a secret|themselves secrets/, r.text);
    assert.ok(!r.text.includes(LEAK), r.text);
  }
  const ok = await exec(['cat', '/etc/app/app.conf']);
  assert.equal(ok.isError, false, ok.text);
  assert.match(ok.text, /port=8080/);
  const ls = await exec(['ls', '/etc/db-creds']);
  assert.equal(ls.isError, false, ls.text);
  assert.match(ls.text, /password/);
});

test("a recursive read of a folder above a Secret volume (grep -r, tar -c, zip -r) and a mountPath spelled with // are refused", async () => {
  const cases: [string[], string][] = [[['grep', '-r', '.', '/etc'], 'web-7'], [['tar', 'cf', '-', '/etc'], 'web-7'], [['zip', '-r', '-', '/etc'], 'web-7'],
    [['cat', '/etc/db-creds/password'], 'dbl-1'], [['grep', '-r', '.', '/etc/db-creds'], 'dbl-1']];
  for (const [command, pod] of cases) {
    const r = await exec(command, pod);
    assert.equal(r.isError, true, `${command.join(' ')} on ${pod}: ${r.text}`);
    assert.match(r.text, /WARDEN_DENIED/);
    assert.match(r.text, /itself a secret|themselves secrets|whole/, r.text);
    assert.ok(!r.text.includes(LEAK), r.text);
  }
});

test('a grant whose paths: name the Secret volume reads it', async () => {
  const r = await exec(['cat', '/etc/db-creds/username'], 'named-1');
  assert.equal(r.isError, false, r.text);
  assert.match(r.text, /app/);
});

test('nothing of it reaches the transcript', () => {
  assert.ok(!dumpTranscript(dir.dbPath).includes(LEAK));
});
