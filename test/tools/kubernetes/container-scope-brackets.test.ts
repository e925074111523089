/**
 * Red team, availability: under a `containers:` grant kubectl_get takes a withheld container's
 * name out of the bracketed lists of the pod's condition messages (container-traces.ts scrub).
 * Its pattern `/\[([^\]]*)\]/g` read on to the text's end from every `[` with no `]` after it:
 * a condition message of 200 000 `[` (a readiness-gate condition anyone who may patch the pod's
 * status writes) held the server's one thread for about a minute. Now each list is found with
 * indexOf, linear; the lists are read as before (a `[` to the first `]` after it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrub } from '../../../tools/kubernetes/container-traces.js';
import { judgedGet } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('brackets');

const ONLY_APP = `  - id: app-only
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
`;

test('a condition message of many [ is scrubbed in time linear in it (the answer then cut at the byte cap)', async () => {
  k.server.store.addPod({ namespace: 'shop', name: 'web-1', labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'vault-agent' }] });
  const p = k.server.store.get('pods', 'shop', 'web-1') as unknown as { status: Record<string, unknown> };
  p.status.conditions = [{ type: 'example.com/gate', status: 'False', message: `gate: ${'['.repeat(200_000)}` }];
  const out = (await judgedGet(k, ONLY_APP, { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'web-1' })) as { kind: string; truncated?: boolean; notes?: string[] };
  assert.equal(out.kind, 'json');
  // Larger than the 64 KiB a call returns: cut, after the container was withheld (the scrub ran).
  assert.equal(out.truncated, true);
  assert.ok(out.notes?.some((n) => n.includes('1 container of pod shop/web-1') && n.includes('withheld')), JSON.stringify(out.notes));
});

test("a condition's bracketed list still loses the withheld name", async () => {
  k.server.store.addPod({ namespace: 'shop', name: 'web-2', labels: { app: 'web' }, containers: [{ name: 'app' }, { name: 'vault-agent' }] });
  const p = k.server.store.get('pods', 'shop', 'web-2') as unknown as { status: Record<string, unknown> };
  p.status.conditions = [
    { type: 'example.com/gate', status: 'False', message: 'waiting [[ for [app vault-agent] and [' },
    { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app vault-agent]' },
  ];
  const out = (await judgedGet(k, ONLY_APP, { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'web-2' })) as { kind: string; data: { status: { conditions: { message?: string }[] } } };
  assert.equal(out.kind, 'json');
  const c = out.data.status.conditions;
  assert.equal(c[0]!.message, 'waiting [[ for [app] and [');
  assert.equal(c[1]!.message, 'containers with unready status: [app]');
});

test('scrub reads the bracketed lists as the pattern did', () => {
  const hidden = new Set(['side']);
  const old = (t: string) => t.replace(/\[([^\]]*)\]/g, (_, list: string) => `[${list.split(/\s+/).filter((w) => w && !hidden.has(w)).join(' ')}]`);
  const cases = ['[app side]', 'a [[app] b]', '[ app ]x[', '[]', 'x]y[app', '[app][  app   z ]', '[[[', ']]]', 'no list', '[app\nz] [q'];
  for (const t of cases) assert.equal(scrub(t, hidden), old(t), JSON.stringify(t));
  // A text that still names the withheld container outside a list: null, as before.
  assert.equal(scrub('side [app]', hidden), null);
  assert.equal(scrub('[side] done', hidden), '[] done');
});
