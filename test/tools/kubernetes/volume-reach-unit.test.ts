/**
 * sharedMountsOf and overlaps on pod objects alone: which mounts other pods can share, and when
 * two of them reach the same storage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlaps, sharedMountsOf } from '../../../tools/kubernetes/volume-reach.js';

const pod = (name: string, volumes: Record<string, unknown>[], readOnly = false) =>
  sharedMountsOf({
    metadata: { namespace: 'shop', name },
    spec: { volumes, containers: [{ name: 'app', volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/m/${v.name as string}`, readOnly })) }] },
  }).app ?? [];

test('pod-local kinds are not shared; claims, hostPath, network and unknown kinds are', () => {
  const m = pod('a', [
    { name: 'e', emptyDir: {} }, { name: 's', secret: { secretName: 'x' } }, { name: 'p', projected: { sources: [] } }, { name: 'bare' },
    { name: 'h', hostPath: { path: '/a/./b/' } }, { name: 'c', persistentVolumeClaim: { claimName: 'data' } },
    { name: 'n', nfs: { server: 'nas', path: '/exports' } }, { name: 'eph', ephemeral: { volumeClaimTemplate: {} } }, { name: 'z', futureKind: { id: 1 } },
  ]);
  assert.deepEqual(m.map((x) => [x.volume, x.kind, x.path, x.clusterWide]), [
    ['h', 'hostPath', '/a/b', true], ['c', 'persistentVolumeClaim', null, false], ['n', 'nfs', '/exports', true], ['eph', 'ephemeral', null, false], ['z', 'futureKind', null, true],
  ]);
});

test('overlap: a path inside the other, the same claim (or a generic ephemeral volume\'s claim), not both read-only', () => {
  const [h] = pod('a', [{ name: 'h', hostPath: { path: '/var/lib' } }]);
  assert.ok(overlaps(h!, pod('b', [{ name: 'x', hostPath: { path: '/var/lib/db' } }])[0]!));
  assert.ok(overlaps(h!, pod('b', [{ name: 'x', hostPath: { path: '/' } }])[0]!));
  assert.ok(!overlaps(h!, pod('b', [{ name: 'x', hostPath: { path: '/var/libx' } }])[0]!));
  assert.ok(overlaps(h!, pod('b', [{ name: 'x', hostPath: { path: '/var/lib' } }], true)[0]!), 'one writer is enough');
  assert.ok(!overlaps(pod('a', [{ name: 'h', hostPath: { path: '/var/lib' } }], true)[0]!, pod('b', [{ name: 'x', hostPath: { path: '/var/lib' } }], true)[0]!));
  // NFS: the same server only.
  const [n] = pod('a', [{ name: 'n', nfs: { server: 'nas', path: '/exports/a' } }]);
  assert.ok(overlaps(n!, pod('b', [{ name: 'n', nfs: { server: 'nas', path: '/exports' } }])[0]!));
  assert.ok(!overlaps(n!, pod('b', [{ name: 'n', nfs: { server: 'nas2', path: '/exports' } }])[0]!));
  // A generic ephemeral volume's claim is POD-VOLUME, which another pod may name.
  const [e] = pod('a', [{ name: 'scratch', ephemeral: { volumeClaimTemplate: {} } }]);
  assert.ok(overlaps(e!, pod('b', [{ name: 'x', persistentVolumeClaim: { claimName: 'a-scratch' } }])[0]!));
  // A source read-only flag counts as the mount's.
  const ro = pod('b', [{ name: 'c', persistentVolumeClaim: { claimName: 'd', readOnly: true } }])[0]!;
  assert.equal(ro.readOnly, true);
  assert.ok(overlaps(ro, pod('c', [{ name: 'c', persistentVolumeClaim: { claimName: 'd' } }])[0]!));
});
