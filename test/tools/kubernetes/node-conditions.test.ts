/**
 * A Node's conditions under a grant limited by pod labels: the kubelet's own (Ready,
 * MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable) say how the node is and are
 * shown whole; a condition another writer sets (node-problem-detector's KernelDeadlock carries
 * the kernel's line naming the hung task, `task postgres:4242 blocked`, the same text as the
 * TaskHung event withheld under such a grant; a plugin's condition may name a pod) is shown
 * without its message and its reason (free text too: any writer of node status sets it): type,
 * status and times only. A grant with no pod labels sees every message and reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgedGet } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('node-conditions');

const WEB = `  - id: web
    effect: allow
    tool: kubectl_get
    kubernetes: { pod_labels: { app: web }, kinds: [nodes] }
`;
const ALL = `  - id: all
    effect: allow
    tool: kubectl_get
    kubernetes: { kinds: [nodes] }
`;

type Cond = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };

async function get(rules: string, input: Record<string, unknown>) {
  const out = await judgedGet(k, rules, input);
  assert.equal(out.kind, 'json');
  return out as { data: unknown; notes?: string[] };
}

const CONDITIONS: Cond[] = [
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'KernelDeadlock', status: 'True', reason: 'TaskHung', message: 'kernel: INFO: task postgres:4242 blocked for more than 120 seconds.' },
  { type: 'example.com/PodHealth', status: 'True', reason: 'Evicting', message: 'evicting pod billing/db-0' },
  // A reason is free text as well: a writer of node status may put data in it.
  { type: 'example.com/Leak', status: 'False', reason: 'pod_payroll_token_s3cr3t', lastTransitionTime: '2024-05-01T10:00:00Z' },
];
/** What a pod_labels grant sees of a condition the kubelet does not set. */
const bare = ({ message: _m, reason: _r, ...rest }: Cond): Cond => rest;

test('under pod_labels a node\'s conditions set by others than the kubelet lose their message and reason; the kubelet\'s are whole', async () => {
  k.server.store.put('nodes', { metadata: { name: 'node-npd' }, status: { conditions: CONDITIONS, nodeInfo: { kubeletVersion: 'v1.30.0' } } });
  for (const input of [{ connection: 'prod', kind: 'nodes', name: 'node-npd' }, { connection: 'prod', kind: 'nodes' }]) {
    const out = await get(WEB, input);
    const node = 'items' in (out.data as object) ? (out.data as { items: { metadata: { name: string } }[] }).items.find((n) => n.metadata.name === 'node-npd') : out.data;
    const conds = (node as { status: { conditions: Cond[] } }).status.conditions;
    assert.deepEqual(conds.slice(0, 2), CONDITIONS.slice(0, 2));
    assert.deepEqual(conds.slice(2), CONDITIONS.slice(2).map(bare));
    assert.equal(conds[4]!.lastTransitionTime, '2024-05-01T10:00:00Z');
    assert.doesNotMatch(JSON.stringify(out), /postgres|billing|db-0|TaskHung|Evicting|payroll|s3cr3t/);
    assert.ok(out.notes?.some((n) => /reasons and messages of node conditions .*withheld/.test(n)), JSON.stringify(out.notes));
  }
  const all = await get(ALL, { connection: 'prod', kind: 'nodes', name: 'node-npd' });
  assert.deepEqual((all.data as { status: { conditions: Cond[] } }).status.conditions, CONDITIONS);
});
