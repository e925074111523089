/**
 * Storage identity on objects alone: a PersistentVolume resolved to the claim it is bound to,
 * and claim mounts judged by the storage of their volumes, against inline volumes and other
 * claims alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimStorageOf, pvInfoOf, withClaimStorage } from '../../../tools/kubernetes/claim-storage.js';
import { overlaps, sharedMountsOf, type SharedMount } from '../../../tools/kubernetes/volume-reach.js';

type Vol = Record<string, unknown>;
const mounts = (namespace: string, volumes: Vol[], readOnly = false): SharedMount[] =>
  sharedMountsOf({ metadata: { namespace, name: 'p' }, spec: { volumes, containers: [{ name: 'app', volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: '/m', readOnly })) }] } }).app ?? [];
const pv = (name: string, claim: [string, string] | null, source: Vol) => ({
  metadata: { name },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'], ...(claim ? { claimRef: { kind: 'PersistentVolumeClaim', namespace: claim[0], name: claim[1] } } : {}), nodeAffinity: { required: {} }, ...source },
});
const STORAGE = claimStorageOf(([
  pv('a', ['shop', 'nfs-a'], { nfs: { server: 'nas', path: '/exports/a' } }),
  pv('b', ['billing', 'nfs-b'], { nfs: { server: 'nas', path: '/exports' } }),
  pv('c', ['shop', 'csi-c'], { csi: { driver: 'd', volumeHandle: 'h1' } }),
  pv('d', ['billing', 'csi-d'], { csi: { driver: 'd', volumeHandle: 'h1', readOnly: true } }),
  pv('e', ['billing', 'csi-e'], { csi: { driver: 'd', volumeHandle: 'h2' } }),
  pv('f', ['billing', 'local-f'], { local: { path: '/mnt/disk/' } }),
  pv('g', null, { hostPath: { path: '/' } }),
  pv('i', ['billing', 'iscsi-i'], { iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2026-01.example:t', lun: 0 } }),
  pv('j', ['shop', 'iscsi-j'], { iscsi: { targetPortal: '10.0.0.2:3260', portals: ['10.0.0.1:3260'], iqn: 'iqn.2026-01.example:t', lun: 0, fsType: 'xfs' } }),
  pv('r', ['shop', 'rbd-r'], { rbd: { monitors: ['m1'], image: 'img' } }),
  pv('s', ['billing', 'rbd-s'], { rbd: { monitors: ['m2', 'm1'], pool: 'rbd', image: 'img' } }),
]).map(pvInfoOf));
const claimOf = (ns: string, name: string) => withClaimStorage(mounts(ns, [{ name: 'v', persistentVolumeClaim: { claimName: name } }]), STORAGE);
const meets = (a: SharedMount[], b: SharedMount[]) => a.some((x) => b.some((y) => overlaps(x, y)));

test('a PersistentVolume names the claim its claimRef binds and its source; one without a claimRef binds none', () => {
  assert.deepEqual(pvInfoOf(pv('a', ['shop', 'x'], { nfs: { server: 'nas', path: '/e/./x/' } })).claim, 'shop/x');
  assert.deepEqual(pvInfoOf(pv('a', ['shop', 'x'], { nfs: { server: 'nas', path: '/e/./x/' } })).sources.map((s) => [s.kind, s.key, s.path, s.host]), [['nfs', 'nfs:', '/e/x', 'nas']]);
  assert.equal(pvInfoOf(pv('g', null, { hostPath: { path: '/' } })).claim, null);
  assert.equal([...STORAGE.keys()].length, 10);
});

test('claims of other names and namespaces meet when their volumes are the same storage', () => {
  assert.ok(meets(claimOf('shop', 'nfs-a'), claimOf('billing', 'nfs-b')), 'an NFS path inside the other');
  assert.ok(meets(claimOf('shop', 'csi-c'), claimOf('billing', 'csi-d')), 'the same CSI driver and volume handle');
  assert.ok(!meets(claimOf('shop', 'csi-c'), claimOf('billing', 'csi-e')), 'another volume handle');
  assert.ok(meets(claimOf('billing', 'iscsi-i'), claimOf('shop', 'iscsi-j')), 'the same iSCSI target and LUN, through any portal');
  assert.ok(meets(claimOf('shop', 'rbd-r'), claimOf('billing', 'rbd-s')), 'the same RBD pool (rbd by default) and image');
  assert.ok(!meets(claimOf('shop', 'nfs-a'), claimOf('shop', 'csi-c')));
  // Every claim mount resolved to a volume reaches pods of any namespace.
  assert.ok(claimOf('shop', 'nfs-a').every((m) => m.clusterWide || m.kind === 'persistentVolumeClaim'));
  assert.ok(claimOf('shop', 'nfs-a').some((m) => m.clusterWide));
  // A claim bound to no volume Warden read stays the claim of its namespace only.
  assert.deepEqual(claimOf('shop', 'unbound').map((m) => m.clusterWide), [false]);
});

test('an inline volume meets a claim whose volume is the same storage', () => {
  assert.ok(meets(mounts('x', [{ name: 'h', hostPath: { path: '/mnt' } }]), claimOf('billing', 'local-f')), 'a local volume is a node directory');
  assert.ok(meets(mounts('x', [{ name: 'n', nfs: { server: 'nas', path: '/exports/a/b' } }]), claimOf('shop', 'nfs-a')));
  assert.ok(!meets(mounts('x', [{ name: 'n', nfs: { server: 'nas9', path: '/exports/a/b' } }]), claimOf('shop', 'nfs-a')));
  // One NFS server by another spelling of its name, or by an address: the same share.
  for (const server of ['NAS.', 'nas.example.com', '[nas]', '10.0.0.9', 'fd00::9', ' nas '])
    assert.ok(meets(mounts('x', [{ name: 'n', nfs: { server, path: '/exports/a/b' } }]), claimOf('shop', 'nfs-a')), server);
  assert.ok(!meets(mounts('x', [{ name: 'n', nfs: { server: 'files.example.com', path: '/exports/a' } }]), claimOf('shop', 'nfs-a')), 'another first label: another host');
  // A CephFS path through any set of monitors (by address or by name) is one cluster's.
  const ceph = (monitors: string[], path: string) => mounts('x', [{ name: 'c', cephfs: { monitors, path } }]);
  assert.ok(meets(ceph(['10.0.0.1:6789', '10.0.0.2:6789'], '/vol/a'), ceph(['mon-a.ceph:6789'], '/vol')));
  assert.ok(!meets(ceph(['10.0.0.1:6789'], '/vol/a'), ceph(['10.0.0.1:6789'], '/vol/b')), 'disjoint paths');
  assert.ok(meets(mounts('x', [{ name: 'c', csi: { driver: 'd', volumeAttributes: { any: 'thing' } } }]), claimOf('billing', 'csi-e')), 'an inline CSI volume names no handle: any volume of its driver');
  assert.ok(!meets(mounts('x', [{ name: 'c', csi: { driver: 'other' } }]), claimOf('billing', 'csi-e')));
  assert.ok(meets(mounts('x', [{ name: 'i', iscsi: { targetPortal: '10.9.9.9', iqn: 'iqn.2026-01.example:t', lun: 0 } }]), claimOf('billing', 'iscsi-i')));
  // Both read-only (the PV source's readOnly counts as the mount's) carry nothing.
  assert.ok(!meets(mounts('x', [{ name: 'c', csi: { driver: 'd' } }], true), claimOf('billing', 'csi-d')));
});
