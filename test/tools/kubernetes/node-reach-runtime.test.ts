/**
 * Red-team findings on node reach (node-reach.ts), checked through the API peer:
 * - a hostPath over the socket of cri-dockerd (`/var/run/cri-dockerd.sock`, the CRI for Docker
 *   Engine since Kubernetes 1.24) or of the kubelet's old dockershim (`/var/run/dockershim.sock`)
 *   is the container runtime's API (exec into, and read, every container of the node), as
 *   `/run/docker.sock` and `/run/containerd` are; neither was listed.
 * - a pod with `hostIPC: true` is in its node's IPC namespace, and the runtime gives it the
 *   node's own /dev/shm: the shared memory of the node's processes and of every other hostIPC
 *   pod, any namespace. It was not judged at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError } from '../../../src/tool-api.js';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { nodeReachOf } from '../../../tools/kubernetes/node-reach.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('node-reach-runtime');

const rule = (id: string, kube: string) => `  - id: ${id}
    effect: allow
    tool: kubectl_exec
    kubernetes: ${kube}
    shell: { programs: { cat: {} } }
`;
const WEB = rule('web', '{ namespaces: [shop], pod_labels: { app: web } }');
const EVERY_POD = rule('every-pod', '{}');

type Obj = Record<string, unknown>;
type PodSpec = { spec: Obj & { containers: (Obj & { name: string })[] } };

function addPod(name: string, edit: (p: PodSpec) => void) {
  k.server.store.addPod({ namespace: 'shop', name, labels: { app: 'web' }, containers: [{ name: 'app' }], files: { '/app/x': 'x' } });
  edit(k.server.store.get('pods', 'shop', name) as unknown as PodSpec);
}

const hostPath = (path: string) => (p: PodSpec) => {
  p.spec.volumes = [{ name: 'host', hostPath: { path, type: 'Socket' } }];
  p.spec.containers[0]!.volumeMounts = [{ name: 'host', mountPath: '/host.sock' }];
};

const input = (pod: string) => ({ connection: 'prod', namespace: 'shop', pod, container: 'app', command: ['cat', '/app/x'] });
const execs = () => k.server.requests.filter((r) => r.upgrade === 'websocket').length;

async function run(rules: string, pod: string) {
  const policy = judgedPolicy(rules);
  const tool = kubectlExecTool(() => k.connector);
  const facts = await tool.parse(input(pod) as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_exec', facts).effect, 'allow');
  return tool.execute(input(pod) as never, facts, policy.ctx(k.ctx, 'kubectl_exec'));
}

async function refused(pod: string, why: RegExp) {
  const before = execs();
  await assert.rejects(run(WEB, pod), (e: unknown) => {
    assert.ok(e instanceof WardenError, String(e));
    assert.equal(e.code, ErrorCode.DENIED, e.message);
    assert.match(e.message, why);
    assert.match(e.message, /nothing ran/);
    return true;
  });
  assert.equal(execs(), before, 'no exec was opened');
  const out = await run(EVERY_POD, pod);
  assert.equal(out.kind === 'text' ? out.streams.stdout : null, 'x');
}

test('a hostPath over the cri-dockerd or dockershim socket is the runtime of every container on the node', async () => {
  for (const [name, path] of [['cri-dockerd', '/var/run/cri-dockerd.sock'], ['cri-dockerd-run', '/run/cri-dockerd.sock'], ['dockershim', '/var/run/dockershim.sock']] as const) {
    addPod(`sock-${name}`, hostPath(path));
    await refused(`sock-${name}`, /volume host \(hostPath\)/);
  }
  // A socket of no container runtime is not node reach.
  assert.deepEqual(nodeReachOf({ spec: { volumes: [{ name: 'h', hostPath: { path: '/run/app/app.sock' } }], containers: [{ name: 'app', volumeMounts: [{ name: 'h', mountPath: '/s' }] }] } }), {});
});

test('hostIPC: every container of the pod shares the node\'s IPC namespace and /dev/shm; refused under a narrow grant', async () => {
  addPod('hostipc', (p) => void (p.spec.hostIPC = true));
  await refused('hostipc', /hostIPC/);
  assert.deepEqual(Object.keys(nodeReachOf({ spec: { hostIPC: true, containers: [{ name: 'a' }], initContainers: [{ name: 'i' }] } })), ['a', 'i']);
  assert.deepEqual(nodeReachOf({ spec: { hostIPC: false, containers: [{ name: 'a' }] } }), {});
});

test('PERFMON: cpu-wide perf events sample every process of the node (user stacks, registers); refused under a narrow grant. SYSLOG is not node reach', async () => {
  addPod('perfmon', (p) => void (p.spec.containers[0]!.securityContext = { capabilities: { add: ['CAP_PERFMON'] } }));
  await refused('perfmon', /capability PERFMON/);
  // The kernel log shows kernel messages (OOM kills, process names, addresses), not other pods' data.
  addPod('syslog', (p) => void (p.spec.containers[0]!.securityContext = { capabilities: { add: ['SYSLOG'] } }));
  const out = await run(WEB, 'syslog');
  assert.equal(out.kind === 'text' ? out.streams.stdout : null, 'x');
  assert.deepEqual(nodeReachOf({ spec: { containers: [{ name: 'a', securityContext: { capabilities: { add: ['SYSLOG', 'NET_BIND_SERVICE'] } } }] } }), {});
});
