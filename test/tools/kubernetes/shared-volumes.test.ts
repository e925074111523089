/**
 * kubectl_exec into a container mounting a volume other pods can mount too (a hostPath, a claim,
 * an NFS share): what the command writes there the other pods read, and what they write it
 * reads. The exec runs only when the policy allows the same exec into every container mounting
 * the same storage; when the pods cannot be listed it is refused, naming the volume.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError } from '../../../src/tool-api.js';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';
import { TOKENS } from '../../support/kube-apiserver/warden-setup.js';

const k = testCluster('shared-volumes');

/** Exec into pods labelled app=web only. */
const WEB = `  - id: web
    effect: allow
    tool: kubectl_exec
    kubernetes: { pod_labels: { app: web } }
    shell: { programs: { cat: {} } }
`;
/** Exec into web and db pods. */
const WEB_AND_DB = WEB.replace('id: web', 'id: web-db').replace('{ app: web }', '{ tier: back }');

type Vol = Record<string, unknown>;
type Mount = { name: string; mountPath: string; readOnly?: boolean };

/** A pod whose `app` container mounts `volumes` (every one, at /v/NAME); `sidecar` too when given. */
function addPod(namespace: string, name: string, app: string, volumes: Vol[], o: { readOnly?: boolean; sidecar?: Vol[] } = {}) {
  k.server.store.addPod({ namespace, name, labels: { app, tier: 'back' }, containers: [{ name: 'app' }, ...(o.sidecar ? [{ name: 'sidecar' }] : [])], files: { '/v/x': 'x' } });
  const p = k.server.store.get('pods', namespace, name) as unknown as { spec: { volumes?: Vol[]; containers: { name: string; volumeMounts?: Mount[] }[] } };
  const mounts = (vs: Vol[]) => vs.map((v) => ({ name: v.name as string, mountPath: `/v/${v.name as string}`, ...(o.readOnly ? { readOnly: true } : {}) }));
  p.spec.volumes = [...volumes, ...(o.sidecar ?? [])];
  p.spec.containers[0]!.volumeMounts = mounts(volumes);
  if (o.sidecar) p.spec.containers[1]!.volumeMounts = mounts(o.sidecar);
}

const hostPath = (name: string, path: string): Vol => ({ name, hostPath: { path, type: 'DirectoryOrCreate' } });
const claim = (name: string, claimName: string): Vol => ({ name, persistentVolumeClaim: { claimName } });
const input = (namespace: string, pod: string) => ({ connection: 'prod', namespace, pod, container: 'app', command: ['cat', '/v/x'] });
const execs = () => k.server.requests.filter((r) => r.upgrade === 'websocket').length;
const podLists = () => k.server.requests.filter((r) => /\/pods\?/.test(r.path)).length;

/** Parse, decide (must allow), execute under `rules`. */
async function run(rules: string, namespace: string, pod: string) {
  const policy = judgedPolicy(rules);
  const tool = kubectlExecTool(() => k.connector);
  const facts = await tool.parse(input(namespace, pod) as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_exec', facts).effect, 'allow');
  return tool.execute(input(namespace, pod) as never, facts, policy.ctx(k.ctx, 'kubectl_exec'));
}

/** The refusal: coded, naming the volume, never the other pod; nothing was opened. */
async function refused(rules: string, namespace: string, pod: string, code: string, volume: RegExp, other: RegExp) {
  const before = execs();
  await assert.rejects(run(rules, namespace, pod), (e: unknown) => {
    assert.ok(e instanceof WardenError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, volume);
    assert.match(e.message, /nothing ran/);
    assert.doesNotMatch(e.message, other);
    return true;
  });
  assert.equal(execs(), before, 'no exec was opened');
  assert.equal(k.server.runningIn(namespace, pod), 0);
}

test('a hostPath another pod mounts inside (any node, any namespace): exec refused unless that pod is granted too', async () => {
  addPod('shop', 'hp-web', 'web', [hostPath('data', '/var/lib/shared/')]);
  addPod('billing', 'hp-db', 'db', [hostPath('dbdata', '/var/lib//shared/db')]);
  await refused(WEB, 'shop', 'hp-web', ErrorCode.DENIED, /volume data \(hostPath\)/, /hp-db|billing|dbdata/);
  const out = await run(WEB_AND_DB, 'shop', 'hp-web');
  assert.equal(out.kind === 'text' ? out.streams.stdout : null, 'x');
  // A path that lies in neither: nothing to judge.
  addPod('shop', 'hp-web-2', 'web', [hostPath('logs', '/var/log/web')]);
  addPod('billing', 'hp-db-2', 'db', [hostPath('logs', '/var/lib/shared-not')]);
  const ok = await run(WEB, 'shop', 'hp-web-2');
  assert.equal(ok.kind === 'text' ? ok.streams.stdout : null, 'x');
});

test('a claim another pod of the namespace mounts: refused unless granted; both read-only does not count', async () => {
  addPod('shop', 'pvc-web', 'web', [claim('data', 'uploads')]);
  addPod('shop', 'pvc-db', 'db', [claim('files', 'uploads')], { readOnly: true });
  // Its mount is read-only, this one is not: it reads what the command writes.
  await refused(WEB, 'shop', 'pvc-web', ErrorCode.DENIED, /volume data \(persistentVolumeClaim\)/, /pvc-db|files/);
  assert.equal((await run(WEB_AND_DB, 'shop', 'pvc-web')).kind, 'text');
  addPod('shop', 'pvc-web-ro', 'web', [claim('data', 'uploads')], { readOnly: true });
  assert.equal((await run(WEB, 'shop', 'pvc-web-ro')).kind, 'text');
  // The same claim name in another namespace is another claim.
  addPod('shop', 'pvc-web-2', 'web', [claim('data', 'reports')]);
  addPod('billing', 'pvc-db-2', 'db', [claim('data', 'reports')]);
  assert.equal((await run(WEB, 'shop', 'pvc-web-2')).kind, 'text');
});

test('another container of the same pod mounting the same host path through another volume is judged', async () => {
  addPod('shop', 'hp-self', 'web', [hostPath('a', '/srv/self')], { sidecar: [hostPath('b', '/srv/self/keys')] });
  const onlyApp = WEB.replace('{ app: web }', '{ app: web }, containers: [app]');
  await refused(onlyApp, 'shop', 'hp-self', ErrorCode.DENIED, /volume a \(hostPath\)/, /sidecar|\bb\b/);
  assert.equal((await run(WEB, 'shop', 'hp-self')).kind, 'text');
});

test('the pods cannot be listed: refused, naming the volume; a pod without such volumes lists nothing', async () => {
  addPod('shop', 'nolist-web', 'web', [claim('data', 'cache')]);
  addPod('shop', 'plain-web', 'web', []);
  const user = k.server.tokens.get(TOKENS.good)!.user;
  user.forbidVerbs = ['list pods'];
  try {
    await refused(WEB, 'shop', 'nolist-web', ErrorCode.BACKEND, /volume data \(persistentVolumeClaim\).*could not be listed/, /^$/);
    const lists = podLists();
    assert.equal((await run(WEB, 'shop', 'plain-web')).kind, 'text');
    assert.equal(podLists(), lists, 'no list for a pod without shared volumes');
  } finally {
    delete user.forbidVerbs;
  }
});

/** A PersistentVolume bound to claim `namespace/claim`, as the API server serves it, with one volume source. */
function addPv(name: string, namespace: string, claimName: string, source: Vol) {
  k.server.store.put('persistentvolumes', {
    metadata: { name },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'manual', volumeMode: 'Filesystem',
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace, name: claimName, uid: `uid-${namespace}-${claimName}` },
      ...source,
    },
    status: { phase: 'Bound' },
  });
}
const pvReads = () => k.server.requests.filter((r) => /^\/api\/v1\/persistentvolumes/.test(r.path)).length;

test('two different claims (any namespaces) whose PersistentVolumes are the same NFS share or CSI volume: judged as one storage', async () => {
  addPv('pv-nfs-a', 'shop', 'nfs-a', { nfs: { server: 'nas.example', path: '/exports/shared' } });
  addPv('pv-nfs-b', 'billing', 'nfs-b', { nfs: { server: 'nas.example', path: '/exports//shared/db/' } });
  addPod('shop', 'pv-nfs-web', 'web', [claim('data', 'nfs-a')]);
  addPod('billing', 'pv-nfs-db', 'db', [claim('files', 'nfs-b')]);
  const reads = pvReads();
  await refused(WEB, 'shop', 'pv-nfs-web', ErrorCode.DENIED, /volume data \(persistentVolumeClaim\)/, /pv-nfs-db|billing|files|nfs-b/);
  assert.equal(pvReads(), reads + 1, 'one list of PersistentVolumes per call');
  assert.equal((await run(WEB_AND_DB, 'shop', 'pv-nfs-web')).kind, 'text');
  // CSI: the same driver and volumeHandle is the same volume; another handle is not.
  addPv('pv-csi-a', 'shop', 'csi-a', { csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0abc', fsType: 'ext4' } });
  addPv('pv-csi-b', 'billing', 'csi-b', { csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0abc', readOnly: false } });
  addPv('pv-csi-c', 'billing', 'csi-c', { csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0def' } });
  addPod('shop', 'pv-csi-web', 'web', [claim('data', 'csi-a')]);
  addPod('billing', 'pv-csi-db', 'db', [claim('data', 'csi-b')]);
  addPod('shop', 'pv-csi-web-2', 'web', [claim('data', 'csi-c-not-bound-here')]);
  addPod('billing', 'pv-csi-db-2', 'db', [claim('data', 'csi-c')]);
  await refused(WEB, 'shop', 'pv-csi-web', ErrorCode.DENIED, /volume data \(persistentVolumeClaim\)/, /pv-csi-db|billing|csi-b/);
  assert.equal((await run(WEB, 'shop', 'pv-csi-web-2')).kind, 'text');
});

test('an inline volume and a claim whose PersistentVolume is the same storage: judged either way round', async () => {
  // A local PV is a directory of a node, as a hostPath is.
  addPv('pv-local', 'billing', 'local-db', { local: { path: '/mnt/disks/ssd1' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }] } } });
  addPod('billing', 'pv-local-db', 'db', [claim('data', 'local-db')]);
  addPod('shop', 'inline-hp-web', 'web', [hostPath('disk', '/mnt/disks')]);
  await refused(WEB, 'shop', 'inline-hp-web', ErrorCode.DENIED, /volume disk \(hostPath\)/, /pv-local|billing|local-db/);
  // The claim side: its PV is an NFS share an inline volume of another namespace mounts.
  addPv('pv-nfs-c', 'shop', 'nfs-c', { nfs: { server: 'nas2.example', path: '/exports/c' } });
  addPod('shop', 'pv-nfs-web-c', 'web', [claim('data', 'nfs-c')]);
  addPod('billing', 'inline-nfs-db', 'db', [{ name: 'n', nfs: { server: 'nas2.example', path: '/exports' } }]);
  await refused(WEB, 'shop', 'pv-nfs-web-c', ErrorCode.DENIED, /volume data \(persistentVolumeClaim\)/, /inline-nfs-db|billing|\bn\b/);
  assert.equal((await run(WEB_AND_DB, 'shop', 'pv-nfs-web-c')).kind, 'text');
  // An inline CSI volume names no volume handle: any volume of its driver may be it.
  addPod('billing', 'inline-csi-db', 'db', [{ name: 'c', csi: { driver: 'nfs.csi.k8s.io', volumeAttributes: { server: 'nas3', share: '/s' } } }]);
  addPv('pv-csi-nfs', 'shop', 'csi-nfs', { csi: { driver: 'nfs.csi.k8s.io', volumeHandle: 'nas3#s#', volumeAttributes: { server: 'nas3', share: '/s' } } });
  addPod('shop', 'pv-csi-nfs-web', 'web', [claim('data', 'csi-nfs')]);
  await refused(WEB, 'shop', 'pv-csi-nfs-web', ErrorCode.DENIED, /volume data \(persistentVolumeClaim\)/, /inline-csi-db|billing/);
});

test('PersistentVolumes Warden may not list: a claim involved refuses the exec, naming the RBAC permission; none involved reads none', async () => {
  addPod('shop', 'nopv-web', 'web', [claim('data', 'nopv')]);
  addPod('shop', 'nopv-plain', 'web', [{ name: 'e', emptyDir: {} }]);
  const user = k.server.tokens.get(TOKENS.good)!.user;
  user.forbidVerbs = ['list persistentvolumes'];
  try {
    await refused(WEB, 'shop', 'nopv-web', ErrorCode.BACKEND, /volume data \(persistentVolumeClaim\).*ClusterRole.*resources \[persistentvolumes\], verbs \[list\]/, /^$/);
    // An inline hostPath while a pod outside the grant mounts a claim somewhere (its PV may be that path).
    addPod('shop', 'nopv-hp-web', 'web', [hostPath('h', '/opt/nopv')]);
    addPod('billing', 'nopv-claim-db', 'db', [claim('data', 'anything')]);
    await refused(WEB, 'shop', 'nopv-hp-web', ErrorCode.BACKEND, /volume h \(hostPath\).*ClusterRole.*resources \[persistentvolumes\], verbs \[list\]/, /nopv-claim-db|billing/);
    const reads = pvReads();
    assert.equal((await run(WEB, 'shop', 'nopv-plain')).kind, 'text');
    assert.equal(pvReads(), reads, 'no PersistentVolume read without a shared volume');
  } finally {
    delete user.forbidVerbs;
  }
});
