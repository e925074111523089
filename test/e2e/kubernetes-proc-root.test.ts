/**
 * kubectl_exec, red team: `/proc/PID/root` (and `/proc/self/root`, `/proc/PID/cwd` in a container
 * whose working folder is `/`) is the process's view of the filesystem, so under a grant whose
 * paths: reach /proc (for /proc/meminfo), `cat /proc/self/root/etc/db-creds/password` read a
 * Secret volume's key and `cat /proc/1/root/var/run/secrets/kubernetes.io/serviceaccount/token`
 * the service account token: the secret-file check saw a path under /proc. Such a path is now
 * judged by the path it names inside that root (shared/shell/secret-files.ts). Through `warden
 * serve` and the test API server; the fixture files under /proc stand in for the kernel's links.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube, webPodShellRule } from '../support/kube-apiserver/warden-setup.js';

const PW = 'hunter2-KPROC-pw';
const TOKEN = 'KPROC-sa-token-0123456789';
let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
${webPodShellRule('sre-proc', ['cat', 'grep'], ['/app', '/proc'])}  - id: sre-any-cat
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { access: full }, containers: [app] }
    shell: { programs: { cat: {}, grep: {} } }
  - id: no-private
    effect: deny
    tool: kubectl_exec
    shell: { programs: { cat: { paths: [/srv/private] } } }
`;

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
const FILES: Record<string, string> = {
  '/app/app.conf': 'port=8080\n',
  '/proc/meminfo': 'MemTotal: 1024 kB\n',
  '/proc/self/root/etc/db-creds/password': PW,
  '/proc/1/root/etc/db-creds/password': PW,
  [`/proc/1/root${SA}/token`]: TOKEN,
  [`/proc/self/task/7/root${SA}/token`]: TOKEN,
  '/proc/1/cwd/etc/db-creds/password': PW,
  // What `..` after the link reaches if it were read lexically (the kernel stays in the root).
  [`/proc/1/var/run/secrets/kubernetes.io/serviceaccount/token`]: TOKEN,
  '/proc/self/root/app/app.conf': 'port=8080\n',
  '/proc/self/root/etc/app/app.yaml': 'internal: KPROC-outside\n',
  '/proc/1/root/srv/private/notes': 'KPROC-private\n',
  '/srv/public/notes': 'public\n',
};

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  // proc-1 under sre-proc (paths /app, /proc), proc-2 under sre-any-cat (no paths).
  for (const [name, labels] of [['proc-1', { app: 'web' }], ['proc-2', { access: 'full' }]] as const) {
    const pod = server.store.addPod({ namespace: 'shop', name, labels, containers: [{ name: 'app' }], files: FILES }) as unknown as {
      spec: { containers: Record<string, unknown>[]; volumes?: unknown[] };
    };
    pod.spec.volumes = [{ name: 'creds', secret: { secretName: 'db-creds' } }, { name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }];
    Object.assign(pod.spec.containers[0]!, { volumeMounts: [{ name: 'creds', mountPath: '/etc/db-creds' }, { name: 'kube-api-access', mountPath: SA }] });
  }
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (command: string[], pod = 'proc-2') => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod, container: 'app', command });

test('a Secret file read through /proc/PID/root, /proc/self/task/TID/root or /proc/PID/cwd is refused (a grant without paths:)', async () => {
  for (const command of [
    ['cat', '/proc/self/root/etc/db-creds/password'],
    ['cat', `/proc/1/root${SA}/token`],
    ['cat', `/proc/self/task/7/root${SA}/token`],
    ['cat', '/proc/1/cwd/etc/db-creds/password'],
    ['cat', '/proc/*/root/etc/db-creds/password'],
    ['cat', `/proc/1/root/..${SA}/token`],
    ['grep', '-r', '.', '/proc/1/root/etc'],
    ['grep', '-R', 'x', '/proc'],
  ]) {
    const r = await exec(command);
    assert.equal(r.isError, true, `${command.join(' ')}: ${r.text}`);
    assert.match(r.text, /WARDEN_DENIED/, r.text);
    // The reason shown is the closest rule's (sre-proc's paths); sre-any-cat, which reads any path, refuses it as a secret
    // file: the same rule reads /proc/self/root/app/app.conf (next test). A working folder's path (/proc/1/cwd/...) is a
    // relative word (paths.ts), which the deny rule's paths refuse first.
    assert.match(r.text, /itself a secret|themselves secrets|may expand to a secret|is outside \/app, \/proc|not under \/app, \/proc|is relative: it resolves in a folder Warden does not know/, r.text);
    assert.ok(!r.text.includes(PW) && !r.text.includes(TOKEN), r.text);
  }
});

test('other files under /proc, and a non-secret file through /proc/self/root, still read', async () => {
  const mem = await exec(['cat', '/proc/meminfo'], 'proc-1');
  assert.equal(mem.isError, false, mem.text);
  assert.match(mem.text, /MemTotal/);
  const conf = await exec(['cat', '/proc/self/root/app/app.conf']);
  assert.equal(conf.isError, false, conf.text);
  assert.match(conf.text, /port=8080/);
});

test("a grant's paths: and a deny's paths: judge the path a /proc view names too", async () => {
  // Under paths [/app, /proc]: /etc/app is outside, though spelled under /proc.
  const outside = await exec(['grep', 'internal', '/proc/self/root/etc/app/app.yaml'], 'proc-1');
  assert.equal(outside.isError, true, outside.text);
  assert.match(outside.text, /outside \/app, \/proc/, outside.text);
  assert.ok(!outside.text.includes('KPROC-outside'), outside.text);
  const denied = await exec(['cat', '/proc/1/root/srv/private/notes']);
  assert.equal(denied.isError, true, denied.text);
  assert.match(denied.text, /no-private/, denied.text);
  assert.ok(!denied.text.includes('KPROC-private'), denied.text);
  const neighbour = await exec(['cat', '/srv/public/notes']);
  assert.equal(neighbour.isError, false, neighbour.text);
  assert.match(neighbour.text, /public/);
});

test('nothing of it reaches the transcript', () => {
  const t = dumpTranscript(dir.dbPath);
  assert.ok(!t.includes(PW) && !t.includes(TOKEN));
});
