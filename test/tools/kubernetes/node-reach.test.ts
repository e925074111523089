/**
 * kubectl_exec into a container that reaches its node reaches every pod on that node: a pod with
 * `hostPID: true` sees every process of the node (`/proc/PID/environ` is another pod's
 * environment, `/proc/PID/root` its files), a privileged container (or one given a capability
 * that escapes the container) can read the node's disks and memory, and a hostPath over the
 * directories where the node keeps its pods (/var/lib/kubelet: their Secret volumes and
 * service-account tokens; /var/log/pods: their logs; the container runtime's socket and state;
 * the host's /proc) reads them; so does any container of a `hostNetwork: true` pod (the node's
 * loopback and node-local ports: the kubelet's, etcd's, node daemons'; with NET_RAW or NET_ADMIN
 * its traffic too). Such an exec is judged as reaching pods of every namespace and
 * of unknown labels: a grant narrowed by namespaces, pod_labels or containers refuses it (and a
 * deny on any of them refuses it), a grant of every pod allows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError } from '../../../src/tool-api.js';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('node-reach');

/** Exec `cat` into pods labelled app=web of namespace shop. */
const WEB = `  - id: web
    effect: allow
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { app: web } }
    shell: { programs: { cat: {} } }
`;
/** Exec `cat` into any pod of any namespace. */
const EVERY_POD = `  - id: every-pod
    effect: allow
    tool: kubectl_exec
    kubernetes: {}
    shell: { programs: { cat: {} } }
`;
/** The same, but never into kube-system. */
const EVERY_POD_BUT_SYSTEM = `${EVERY_POD}  - id: no-system
    effect: deny
    tool: kubectl_exec
    kubernetes: { namespaces: [kube-system] }
`;

type Obj = Record<string, unknown>;
type PodSpec = { spec: Obj & { containers: (Obj & { name: string })[]; volumes?: Obj[] } };

/** A pod of shop labelled app=web with containers app and sidecar; `edit` changes its spec as stored. */
function addPod(name: string, edit: (p: PodSpec) => void) {
  k.server.store.addPod({ namespace: 'shop', name, labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'sidecar' }], files: { '/app/x': 'x' } });
  edit(k.server.store.get('pods', 'shop', name) as unknown as PodSpec);
}

/** Mount a hostPath at /host in container app. */
const hostPath = (path: string) => (p: PodSpec) => {
  p.spec.volumes = [{ name: 'host', hostPath: { path } }];
  p.spec.containers[0]!.volumeMounts = [{ name: 'host', mountPath: '/host', readOnly: true }];
};

const input = (pod: string, container = 'app') => ({ connection: 'prod', namespace: 'shop', pod, container, command: ['cat', '/app/x'] });
const execs = () => k.server.requests.filter((r) => r.upgrade === 'websocket').length;

/** Parse, decide (must allow), execute under `rules`. */
async function run(rules: string, pod: string, container?: string) {
  const policy = judgedPolicy(rules);
  const tool = kubectlExecTool(() => k.connector);
  const facts = await tool.parse(input(pod, container) as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_exec', facts).effect, 'allow');
  return tool.execute(input(pod, container) as never, facts, policy.ctx(k.ctx, 'kubectl_exec'));
}

/** Refused with WARDEN_DENIED naming what reaches the node (and the refusing rules), and no exec was opened. */
async function refused(rules: string, pod: string, why: RegExp, ruleIds: string[] = []) {
  const before = execs();
  await assert.rejects(run(rules, pod), (e: unknown) => {
    assert.ok(e instanceof WardenError, String(e));
    assert.equal(e.code, ErrorCode.DENIED, e.message);
    assert.match(e.message, why);
    assert.match(e.message, /every pod on its node/);
    assert.match(e.message, /nothing ran/);
    // No allow matches (no rule id), or the deny that does.
    assert.deepEqual(e.details.ruleIds, ruleIds);
    return true;
  });
  assert.equal(execs(), before, 'no exec was opened');
}

const ran = async (rules: string, pod: string, container?: string) => {
  const out = await run(rules, pod, container);
  assert.equal(out.kind === 'text' ? out.streams.stdout : null, 'x');
};

test('hostPID: every container of the pod sees the node\'s processes; refused under a narrow grant', async () => {
  addPod('hostpid', (p) => void (p.spec.hostPID = true));
  await refused(WEB, 'hostpid', /hostPID/);
  await assert.rejects(run(WEB, 'hostpid', 'sidecar'), /hostPID/);
  await ran(EVERY_POD, 'hostpid');
  // It reaches kube-system's pods on that node too.
  await refused(EVERY_POD_BUT_SYSTEM, 'hostpid', /hostPID/, ['no-system']);
});

test('a privileged container, or one given a capability that escapes it; not its unprivileged neighbour', async () => {
  addPod('priv', (p) => void (p.spec.containers[0]!.securityContext = { privileged: true }));
  await refused(WEB, 'priv', /privileged/);
  await ran(WEB, 'priv', 'sidecar');
  addPod('sysadmin', (p) => void (p.spec.containers[0]!.securityContext = { capabilities: { add: ['NET_BIND_SERVICE', 'CAP_sys_admin'] } }));
  await refused(WEB, 'sysadmin', /capability SYS_ADMIN/);
  addPod('all-caps', (p) => void (p.spec.containers[0]!.securityContext = { capabilities: { add: ['all'] } }));
  await refused(WEB, 'all-caps', /capability ALL/);
  addPod('bind', (p) => void (p.spec.containers[0]!.securityContext = { privileged: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } }));
  await ran(WEB, 'bind');
  await ran(EVERY_POD, 'priv');
});

test('a Windows hostProcess container (pod or container securityContext.windowsOptions) runs as a process on its node', async () => {
  addPod('hostproc-pod', (p) => {
    p.spec.hostNetwork = true;
    p.spec.securityContext = { windowsOptions: { hostProcess: true } };
    p.spec.containers[0]!.securityContext = { capabilities: { drop: ['ALL'] } };
  });
  await refused(WEB, 'hostproc-pod', /hostProcess/);
  addPod('hostproc-ctr', (p) => {
    p.spec.hostNetwork = true;
    p.spec.containers[0]!.securityContext = { windowsOptions: { hostProcess: true }, capabilities: { drop: ['ALL'] } };
  });
  await refused(WEB, 'hostproc-ctr', /hostProcess/);
  // Kubernetes requires every container of a hostProcess pod to be one: the pod's true counts
  // whatever a container says (fail closed on a pod the API server would not admit).
  addPod('hostproc-mixed', (p) => {
    p.spec.hostNetwork = true;
    p.spec.securityContext = { windowsOptions: { hostProcess: true } };
    p.spec.containers[0]!.securityContext = { windowsOptions: { hostProcess: false }, capabilities: { drop: ['ALL'] } };
  });
  await refused(WEB, 'hostproc-mixed', /hostProcess/);
  // A Windows container that is no hostProcess one is not reached.
  addPod('hostproc-off', (p) => {
    p.spec.securityContext = { windowsOptions: { hostProcess: false, runAsUserName: 'ContainerUser' } };
    p.spec.containers[0]!.securityContext = { windowsOptions: { hostProcess: false } };
  });
  await ran(WEB, 'hostproc-off');
  await ran(EVERY_POD, 'hostproc-ctr');
});

test('a hostPath over the node\'s pod, log, runtime or process directories (or above them)', async () => {
  for (const [name, path] of [['kubelet', '/var/lib/kubelet/pods'], ['root', '/'], ['var', '/var//'], ['logs', '/var/log/pods'], ['sock', '/var/run/containerd/containerd.sock'], ['proc', '/proc']] as const) {
    addPod(`hp-${name}`, hostPath(path));
    await refused(WEB, `hp-${name}`, /volume host \(hostPath\)/);
  }
  // A directory of the node that holds no pod's data: judged only against pods mounting it too (shared-volumes.ts).
  addPod('hp-web-logs', hostPath('/var/log/web'));
  await ran(WEB, 'hp-web-logs');
  await ran(EVERY_POD, 'hp-kubelet');
});

test('hostNetwork: every container shares the node\'s network; one that may open raw sockets (NET_RAW, granted by default) or has NET_ADMIN also captures its traffic', async () => {
  const hostNet = (sc?: Obj) => (p: PodSpec) => {
    p.spec.hostNetwork = true;
    if (sc) p.spec.containers[0]!.securityContext = sc;
  };
  // The runtime's default capabilities include NET_RAW: nothing said is NET_RAW kept.
  addPod('hn-default', hostNet());
  await refused(WEB, 'hn-default', /hostNetwork: true.*NET_RAW.*captures the node's traffic/);
  addPod('hn-admin', hostNet({ capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } }));
  await refused(WEB, 'hn-admin', /hostNetwork: true.*capability NET_ADMIN/);
  addPod('hn-raw', hostNet({ capabilities: { drop: ['all'], add: ['cap_net_raw'] } }));
  await refused(WEB, 'hn-raw', /hostNetwork: true.*capability NET_RAW/);
  addPod('hn-drop-other', hostNet({ capabilities: { drop: ['NET_BIND_SERVICE'] } }));
  await refused(WEB, 'hn-drop-other', /hostNetwork: true/);
  await ran(EVERY_POD, 'hn-default');
  // NET_RAW dropped (by name or with ALL), none added back: it captures no traffic, but it is
  // still on the node's loopback and node-local ports (the kubelet's read-only port 10255 lists
  // every pod on the node with its env values; the kubelet API, etcd, node daemons on 127.0.0.1).
  const loopback = /hostNetwork: true.*loopback.*kubelet/;
  addPod('hn-no-raw', hostNet({ capabilities: { drop: ['CAP_NET_RAW'] } }));
  await refused(WEB, 'hn-no-raw', loopback);
  addPod('hn-no-caps', hostNet({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }));
  await refused(WEB, 'hn-no-caps', loopback);
  await refused(EVERY_POD_BUT_SYSTEM, 'hn-no-caps', loopback, ['no-system']);
  await ran(EVERY_POD, 'hn-no-raw');
  await ran(EVERY_POD, 'hn-no-caps');
  // The sidecar of a hostNetwork pod keeps the default NET_RAW.
  await assert.rejects(run(WEB, 'hn-no-caps', 'sidecar'), /hostNetwork: true.*NET_RAW/);
  // Without hostNetwork, NET_ADMIN and NET_RAW act on the pod's own network namespace only.
  addPod('podnet-admin', (p) => void (p.spec.containers[0]!.securityContext = { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } }));
  await ran(WEB, 'podnet-admin');
});

/** A PersistentVolume bound to claim shop/`claimName`, with one volume source. */
function addPv(name: string, claimName: string, source: Obj) {
  k.server.store.put('persistentvolumes', {
    metadata: { name },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'manual', volumeMode: 'Filesystem',
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'shop', name: claimName, uid: `uid-${claimName}` },
      ...source,
    },
    status: { phase: 'Bound' },
  });
}
/** Mount claim `claimName` at /data in container app. */
const claim = (claimName: string) => (p: PodSpec) => {
  p.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName } }];
  p.spec.containers[0]!.volumeMounts = [{ name: 'data', mountPath: '/data', readOnly: true }];
};
const pvReads = () => k.server.requests.filter((r) => /^\/api\/v1\/persistentvolumes/.test(r.path)).length;

test('a claim bound to a hostPath or local PersistentVolume over the node\'s pod data reaches the node as that hostPath does', async () => {
  addPv('pv-kubelet', 'kubelet-data', { hostPath: { path: '/var/lib/kubelet', type: 'Directory' } });
  addPv('pv-local-logs', 'logs-data', { local: { path: '/var/log/pods/' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }] } } });
  addPv('pv-app', 'app-data', { hostPath: { path: '/mnt/app-data' } });
  addPod('claim-kubelet', claim('kubelet-data'));
  addPod('claim-logs', claim('logs-data'));
  addPod('claim-app', claim('app-data'));
  addPod('claim-unbound', claim('nowhere'));
  const reads = pvReads();
  await refused(WEB, 'claim-kubelet', /volume data \(persistentVolumeClaim\).*\/var\/lib\/kubelet/);
  assert.equal(pvReads(), reads + 1, 'the PersistentVolumes are read once, by the shared-storage check');
  await refused(WEB, 'claim-logs', /volume data \(persistentVolumeClaim\).*\/var\/log\/pods/);
  // Not the claim's container: the sidecar mounts nothing.
  await ran(WEB, 'claim-kubelet', 'sidecar');
  await ran(EVERY_POD, 'claim-kubelet');
  await ran(WEB, 'claim-app');
  await ran(WEB, 'claim-unbound');
});
