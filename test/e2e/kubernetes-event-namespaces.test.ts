/**
 * kubectl_get events, red team: an event lives in one namespace but may name an object of
 * another in its `related` reference (the scheduler's `Preempted` event names the preempting
 * pod, of any namespace). Under a grant of namespace `shop` with no pod labels, each event's
 * subjects were taken as "open" by judging the call (namespace shop) with their container only,
 * so an event in shop about a pod of `vault` (outside the grant) was shown: the vault pod's
 * name, uid and what the event says of it. Now each subject is judged in its own namespace:
 * such an event is withheld (counted in the note), while events whose objects lie in the
 * granted namespaces stay shown. Through `warden serve` and the test API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const POLICY = `
rules:
  - id: shop-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [prod]
    kubernetes: { namespaces: [shop], kinds: [pods, events] }
  - id: both-read
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [limited]
    kubernetes: { namespaces: [shop, vault], kinds: [pods, events] }
`;

const HIDDEN = 'Preempted by keeper-0 XNS-hidden-1';
const SHOWN = 'Preempted by web-1 XNS-shown-2';
const NODE = 'Node node-1 status is now: NodeReady XNS-node-3';

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  const s = server.store;
  const keeper = s.addPod({ namespace: 'vault', name: 'keeper-0', labels: { app: 'vault' }, containers: [{ name: 'vault' }] });
  const web = s.get('pods', 'shop', 'web-1')!;
  const db = s.get('pods', 'shop', 'db-1')!;
  const ref = (p: typeof web) => ({ kind: 'Pod', apiVersion: 'v1', name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid });
  s.put('events', { metadata: { name: 'db-1.preempt', namespace: 'shop' }, involvedObject: ref(db), related: ref(keeper), reason: 'Preempted', message: HIDDEN, type: 'Normal' });
  s.put('events', { metadata: { name: 'db-1.preempt-web', namespace: 'shop' }, involvedObject: ref(db), related: ref(web), reason: 'Preempted', message: SHOWN, type: 'Normal' });
  s.put('events', { metadata: { name: 'node-1.ready', namespace: 'shop' }, involvedObject: { kind: 'Node', name: 'node-1', uid: 'node-1-uid' }, reason: 'NodeReady', message: NODE, type: 'Normal' });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const events = (connection: string, name?: string) => w.call('kubectl_get', { connection, kind: 'events', namespace: 'shop', ...(name ? { name } : {}) });

test('an event in a granted namespace about a pod of another namespace is withheld; events about objects within the grant stay', async () => {
  const r = await events('prod');
  assert.equal(r.isError, false, r.text);
  assert.ok(!r.text.includes('XNS-hidden') && !r.text.includes('keeper-0') && !r.text.includes('"vault"'), r.text);
  assert.ok(r.text.includes(SHOWN), r.text);
  assert.ok(r.text.includes(NODE), r.text);
  assert.match(r.text, /1 event about pods, or objects showing pods, outside what this principal may read was withheld/, r.text);
});

test('that event named is refused in the words of an absent one', async () => {
  const r = await events('prod', 'db-1.preempt');
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /WARDEN_DENIED/, r.text);
  assert.ok(!r.text.includes('XNS-hidden') && !r.text.includes('keeper-0'), r.text);
});

test('a grant reaching both namespaces sees the event', async () => {
  const r = await events('limited');
  assert.equal(r.isError, false, r.text);
  assert.ok(r.text.includes(HIDDEN), r.text);
  assert.ok(r.text.includes(SHOWN), r.text);
});
