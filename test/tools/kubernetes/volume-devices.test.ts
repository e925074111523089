/**
 * A volume a container uses as a raw block device (`volumeDevices`, a claim or a generic
 * ephemeral volume in `volumeMode: Block`) is the same storage as a volume it mounts: another
 * container (or pod) using that volume writes what a command reads from the device path
 * (`cat /dev/xvdb`, the other side's filesystem). Red-team finding: only `volumeMounts` were
 * read, so an exec under `containers: [app]` or `pod_labels: {app: web}` ran in a container
 * sharing a block device with a container or pod outside the grant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError } from '../../../src/tool-api.js';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { reachedBesides, reachOf } from '../../../tools/kubernetes/container-reach.js';
import { sharedMountsOf } from '../../../tools/kubernetes/volume-reach.js';
import { judgedPolicy } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('volume-devices');

const rule = (id: string, kube: string) => `  - id: ${id}
    effect: allow
    tool: kubectl_exec
    kubernetes: ${kube}
    shell: { programs: { cat: {} } }
`;
const ONLY_APP = rule('app', '{ namespaces: [shop], containers: [app] }');
const BOTH = rule('both', '{ namespaces: [shop], containers: [app, db] }');
const WEB = rule('web', '{ pod_labels: { app: web } }');
const WEB_AND_DB = rule('back', '{ pod_labels: { tier: back } }');

type Spec = { volumes?: unknown[]; containers: Record<string, unknown>[] };
const execs = () => k.server.requests.filter((r) => r.upgrade === 'websocket').length;
const blockClaim = (name: string, claimName: string) => ({ name, persistentVolumeClaim: { claimName } });
const device = (name: string, devicePath: string) => [{ name, devicePath }];

/** A pod labelled app=`app`; each container named in `devices` uses those volumes as block devices. */
function addPod(name: string, app: string, containers: string[], volumes: unknown[], devices: Record<string, { name: string; devicePath: string }[]>) {
  k.server.store.addPod({ namespace: 'shop', name, labels: { app, tier: 'back' }, containers: containers.map((c) => ({ name: c })), files: { '/app/x': 'x' } });
  const p = k.server.store.get('pods', 'shop', name) as unknown as { spec: Spec };
  p.spec.volumes = volumes;
  for (const c of p.spec.containers) if (devices[c.name as string]) c.volumeDevices = devices[c.name as string];
}

async function parse(pod: string) {
  const input = { connection: 'prod', namespace: 'shop', pod, container: 'app', command: ['cat', '/app/x'] };
  const tool = kubectlExecTool(() => k.connector);
  return { tool, input, facts: await tool.parse(input as never, k.parseCtx) };
}

test('reach facts: a block device two containers use is shared like a mounted volume, within the pod and with other pods', () => {
  const spec = {
    volumes: [blockClaim('disk', 'raw')],
    containers: [{ name: 'app', volumeDevices: device('disk', '/dev/xvdb') }, { name: 'db', volumeMounts: [{ name: 'disk', mountPath: '/var/lib/db' }] }, { name: 'other' }],
  };
  assert.deepEqual(reachedBesides(reachOf(spec), 'app', 'exec'), ['db']);
  assert.deepEqual(reachedBesides(reachOf(spec), 'db', 'exec'), ['app']);
  const shared = sharedMountsOf({ metadata: { namespace: 'shop', name: 'p' }, spec });
  assert.deepEqual(shared.app?.map((m) => [m.volume, m.key, m.readOnly]), [['disk', 'claim:shop/raw', false]]);
});

test('exec into a container sharing a raw block device with a container outside the grant: denied, nothing runs', async () => {
  addPod('blk-1', 'web', ['app', 'db'], [blockClaim('disk', 'blk-1-disk')], { app: device('disk', '/dev/xvdb'), db: device('disk', '/dev/xvdb') });
  const before = execs();
  const { facts } = await parse('blk-1');
  const d = judgedPolicy(ONLY_APP).decide('kubectl_exec', facts);
  assert.equal(d.effect, 'deny', d.reason);
  assert.match(d.reason, /volume/);
  assert.doesNotMatch(d.reason, /\bdb\b/, 'the withheld container is not named');
  assert.equal(judgedPolicy(BOTH).decide('kubectl_exec', facts).effect, 'allow');
  assert.equal(execs(), before);
});

test('exec into a pod sharing a block-mode claim with a pod outside the grant: refused before any exec; granted both, it runs', async () => {
  addPod('blk-web', 'web', ['app'], [blockClaim('disk', 'shared-raw')], { app: device('disk', '/dev/xvdb') });
  addPod('blk-db', 'db', ['app'], [blockClaim('data', 'shared-raw')], { app: device('data', '/dev/xvdc') });
  const { tool, input, facts } = await parse('blk-web');
  const web = judgedPolicy(WEB);
  assert.equal(web.decide('kubectl_exec', facts).effect, 'allow');
  const before = execs();
  await assert.rejects(tool.execute(input as never, facts, web.ctx(k.ctx, 'kubectl_exec')), (e: unknown) => {
    assert.ok(e instanceof WardenError, String(e));
    assert.equal(e.code, ErrorCode.DENIED, e.message);
    assert.match(e.message, /volume disk \(persistentVolumeClaim\)/);
    assert.match(e.message, /nothing ran/);
    assert.doesNotMatch(e.message, /blk-db|\bdata\b/);
    return true;
  });
  assert.equal(execs(), before, 'no exec was opened');
  const both = judgedPolicy(WEB_AND_DB);
  const out = await tool.execute(input as never, facts, both.ctx(k.ctx, 'kubectl_exec'));
  assert.equal(out.kind === 'text' ? out.streams.stdout : null, 'x');
});
