/**
 * What else shows pods a `pod_labels` grant hides: events.k8s.io Events (`regarding`), Node
 * image lists, Services (their selectors route to pods), Endpoints and EndpointSlices (their
 * targetRefs name pods and their IPs). Through `warden serve` and the test API server; what is
 * withheld must be absent from the whole answer and from the transcript.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';
import { kubernetesCondition } from '../../tools/kubernetes/condition.js';

const POLICY = `
rules:
  - id: web-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [prod]
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, kinds: [pods, events, services] }
  - id: web-nodes
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [prod]
    kubernetes: { pod_labels: { app: web }, kinds: [nodes] }
  - id: all-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [certs]
    kubernetes: { kinds: [services, nodes, events] }
  - id: no-quarantined
    effect: deny
    tool: kubectl_get
    on: [certs]
    kubernetes: { kinds: [services], pod_labels: { quarantine: "true" } }
    reason: Quarantined pods are off limits.
`;

/** What pods outside the grant would show. */
const HIDDEN = {
  eventBoth: 'Back-off pulling db-image-PR1a',
  eventBadRef: 'Liveness probe failed PR1b',
  eventRelated: 'Preempted by db-1 PR1c',
  nodeImage: 'registry.example/db-image-PR2a:14',
  nodeVolume: 'kubernetes.io/csi/ebs.csi.aws.com^vol-PR2b',
  dbService: 'db-port-PR3a',
  dbClusterIp: '10.96.7.77',
  manualService: 'manual-port-PR3b',
  emptyService: 'empty-port-PR3c',
};

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

type Obj = { metadata: { name: string }; status?: Record<string, unknown> };
type Result = { text: string; isError: boolean; structured: Record<string, unknown> | undefined };

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  const s = server.store;
  const pod = (name: string) => ({ kind: 'Pod', name, namespace: 'shop', uid: s.get('pods', 'shop', name)?.metadata.uid });
  const ev = (name: string, message: string, extra: Record<string, unknown>) =>
    s.put('events', { metadata: { name, namespace: 'shop' }, reason: 'Test', message, type: 'Normal', ...extra });
  // events.k8s.io/v1 names the object `regarding`; a core/v1 read never carries it, so these
  // stand for an answer in that shape reaching event-scope.ts.
  ev('web-1.regarding', 'Pulled image app PR0ok', { regarding: pod('web-1') });
  ev('web-1.both', HIDDEN.eventBoth, { involvedObject: pod('web-1'), regarding: pod('db-1') });
  ev('web-1.badref', HIDDEN.eventBadRef, { involvedObject: pod('web-1'), regarding: 'db-1' });
  ev('web-1.related', HIDDEN.eventRelated, { regarding: pod('web-1'), related: pod('db-1') });

  s.put('nodes', {
    metadata: { name: 'node-2', labels: { 'kubernetes.io/hostname': 'node-2' } },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      nodeInfo: { kubeletVersion: 'v1.30.2' },
      images: [{ names: [HIDDEN.nodeImage], sizeBytes: 1000 }, { names: ['registry.example/app:1.0'], sizeBytes: 900 }],
      volumesInUse: [HIDDEN.nodeVolume],
      volumesAttached: [{ name: HIDDEN.nodeVolume, devicePath: '' }],
    },
  });

  const svc = (name: string, spec: Record<string, unknown>) => s.put('services', { metadata: { name, namespace: 'shop' }, spec });
  svc('db', { selector: { app: 'db' }, ports: [{ name: HIDDEN.dbService, port: 5432 }], clusterIP: HIDDEN.dbClusterIp });
  svc('web-stable', { selector: { app: 'web', quarantine: 'false' }, ports: [{ port: 80 }] });
  svc('web-canary', { selector: { app: 'web', quarantine: 'true' }, ports: [{ port: 80 }] });
  // No selector: its Endpoints are written by hand and may name any pod.
  svc('manual', { ports: [{ name: HIDDEN.manualService, port: 9000 }] });
  // An empty selector selects every pod.
  svc('everything', { selector: {}, ports: [{ name: HIDDEN.emptyService, port: 1 }] });
  svc('ext', { type: 'ExternalName', externalName: 'api.example.com' });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const get = (kind: string, args: Record<string, unknown> = {}, connection = 'prod') =>
  w.call('kubectl_get', { connection, kind, ...(kind === 'nodes' ? {} : { namespace: 'shop' }), ...args });
const names = (r: Result) => (r.structured as { data: { items: Obj[] } }).data.items.map((i) => i.metadata.name).sort();
const items = (r: Result) => (r.structured as { data: { items: Obj[] } }).data.items;
const error = (r: Result) => (r.structured as { error: { code: string; rule_ids: string[] } }).error;

function assertHidden(r: Result, what: Record<string, string> = HIDDEN): void {
  const all = r.text + JSON.stringify(r.structured ?? {});
  for (const [k, m] of Object.entries(what)) assert.ok(!all.includes(m), `leaks ${k}`);
}

describe('kinds kubectl_get does not serve', () => {
  test('events.k8s.io Events, Endpoints and EndpointSlices cannot be named in any spelling', async () => {
    for (const kind of ['events.events.k8s.io', 'events.k8s.io', 'events.v1.events.k8s.io', 'ev', 'endpoints', 'ep', 'endpointslices', 'endpointslices.discovery.k8s.io', 'Endpoints', 'EndpointSlice']) {
      const r = await get(kind);
      assert.equal(r.isError, true, `${kind}: ${r.text}`);
      assert.match(r.text, /WARDEN_INVALID_INPUT/, kind);
    }
    for (const extra of [{ apiVersion: 'events.k8s.io/v1' }, { api_version: 'events.k8s.io/v1' }, { group: 'events.k8s.io' }, { resource: 'events.events.k8s.io' }]) {
      const r = await get('events', extra);
      assert.equal(r.isError, true, `${JSON.stringify(extra)}: ${r.text}`);
      assert.match(r.text, /WARDEN_INVALID_INPUT/);
    }
    const seen = server.requests.length;
    assert.equal((await get('events', { name: 'web-1.17a' })).isError, false);
    assert.deepEqual(server.requests.slice(seen).map((q) => q.path.split('?')[0] ?? '').filter((p) => p.includes('events')), ['/api/v1/namespaces/shop/events/web-1.17a'], 'events are read from core/v1 only');
  });

  test('nor can a policy grant them', () => {
    for (const kind of ['endpoints', 'endpointslices', 'events.events.k8s.io']) {
      assert.throws(() => kubernetesCondition.compile({ kinds: [kind] }, { id: 'r', effect: 'allow' }), kind);
    }
  });
});

describe('events in the events.k8s.io shape (regarding, related)', () => {
  test('regarding is judged as involvedObject is; a reference that cannot be read is unknown', async () => {
    const r = await get('events');
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r).filter((n) => n.startsWith('web-1.')), ['web-1.17a', 'web-1.regarding']);
    assertHidden(r);
    assert.match(r.text, /3 events .*withheld/);
  });

  test('a named event is refused when regarding or related names a pod outside the grant', async () => {
    for (const [name, why] of [['web-1.both', /pod shop\/db-1/], ['web-1.related', /pod shop\/db-1/], ['web-1.badref', /unnamed object of event shop\/web-1\.badref/]] as const) {
      const q = await get('events', { name });
      assert.equal(q.isError, true, `${name}: ${q.text}`);
      assert.equal(error(q).code, 'WARDEN_DENIED', name);
      assert.match(q.text, /is not among the (events|services) this grant reaches \(absent, or outside the grant\)/, name);
      assert.doesNotMatch(q.text, why, name); // what it is about is not told
      assertHidden(q);
    }
    assert.equal((await get('events', { name: 'web-1.regarding' })).isError, false);
  });

  test('without pod_labels in the grant every event is shown', async () => {
    const r = await get('events', { name: 'web-1.regarding' }, 'certs');
    assert.equal(r.isError, false, r.text);
  });
});

describe('nodes under a pod_labels grant', () => {
  test('a node list keeps the node but not the images and volumes of its pods', async () => {
    const r = await get('nodes');
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['node-1', 'node-2']);
    const n2 = items(r).find((i) => i.metadata.name === 'node-2')!;
    assert.equal(n2.status?.images, undefined);
    assert.equal(n2.status?.volumesInUse, undefined);
    assert.equal(n2.status?.volumesAttached, undefined);
    assert.deepEqual(n2.status?.nodeInfo, { kubeletVersion: 'v1.30.2' });
    assert.ok(!r.text.includes('registry.example/app:1.0'), 'even images of granted pods: the list does not say whose they are');
    assertHidden(r);
    assert.match(r.text, /status\.images/);
  });

  test('a node fetched by name loses them too', async () => {
    const r = await get('nodes', { name: 'node-2' });
    assert.equal(r.isError, false, r.text);
    const n = (r.structured as { data: Obj }).data;
    assert.equal(n.metadata.name, 'node-2');
    assert.equal(n.status?.images, undefined);
    assertHidden(r);
  });

  test('a grant not limited by pod labels sees them', async () => {
    const r = await get('nodes', { name: 'node-2' }, 'certs');
    assert.equal(r.isError, false, r.text);
    assert.ok(r.text.includes(HIDDEN.nodeImage));
    assert.ok(r.text.includes(HIDDEN.nodeVolume));
  });
});

describe('services under a pod_labels grant', () => {
  test('a list keeps services whose selector fixes the granted labels', async () => {
    const r = await get('services');
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(names(r), ['ext', 'web', 'web-canary', 'web-stable']);
    assertHidden(r);
    assert.match(r.text, /3 services .*withheld/);
  });

  test('a service fetched by name is refused when its selector reaches pods outside the grant', async () => {
    for (const [name, why] of [['db', /the pods selected by Service shop\/db/], ['manual', /Service shop\/manual/], ['everything', /Service shop\/everything/]] as const) {
      const q = await get('services', { name });
      assert.equal(q.isError, true, `${name}: ${q.text}`);
      assert.equal(error(q).code, 'WARDEN_DENIED', name);
      assert.match(q.text, /is not among the (events|services) this grant reaches \(absent, or outside the grant\)/, name);
      assert.doesNotMatch(q.text, why, name); // what it is about is not told
      assertHidden(q);
    }
    const ok = await get('services', { name: 'web' });
    assert.equal(ok.isError, false, ok.text);
  });

  test('a deny on pod labels reaches services whose selector does not rule the label out', async () => {
    const r = await get('services', {}, 'certs');
    assert.equal(r.isError, false, r.text);
    // web-canary selects quarantined pods; web, manual, everything and db may (their selectors
    // leave quarantine open); web-stable cannot; ext selects no pods.
    assert.deepEqual(names(r), ['ext', 'web-stable']);
    const q = await get('services', { name: 'web-canary' }, 'certs');
    assert.equal(error(q).code, 'WARDEN_DENIED');
    assert.deepEqual(error(q).rule_ids, ['no-quarantined']);
  });

  test('judging services costs no extra request', async () => {
    const seen = server.requests.length;
    await get('services');
    assert.deepEqual(server.requests.slice(seen).map((q) => q.path.split('?')[0]), ['/api/v1/namespaces/shop/services']);
  });
});

test('the transcript holds none of what was withheld (the node fields were shown to an unscoped grant)', () => {
  const all = dumpTranscript(dir.dbPath);
  assert.match(all, /web-1\.regarding/);
  for (const k of ['eventBoth', 'eventRelated', 'eventBadRef', 'dbService', 'dbClusterIp', 'manualService', 'emptyService'] as const) {
    assert.ok(!all.includes(HIDDEN[k]), `transcript leaks ${k}`);
  }
});
