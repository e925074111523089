/**
 * Services judged by their selector and nodes stripped of their pods' fields under a
 * pod_labels grant, with the real `kubernetes:` condition as the judge (decide() over a
 * compiled policy), and without any judge (fail closed).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../../src/policy/load.js';
import { decide } from '../../../src/policy/engine.js';
import type { ExecContext, Principal } from '../../../src/tool-api.js';
import { shellCondition } from '../../../tools/shared/shell/index.js';
import { kubernetesCondition } from '../../../tools/kubernetes/condition.js';
import type { KubeFacts } from '../../../tools/kubernetes/facts.js';
import { scopeNodes } from '../../../tools/kubernetes/node-scope.js';
import { scopeServices, selectsNoPods, serviceSelector } from '../../../tools/kubernetes/service-scope.js';

const principal: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'stdio' };

function ctxFor(rules: string): ExecContext {
  const policy = compilePolicy(['p.yaml'], [kubernetesCondition, shellCondition], { 'p.yaml': `rules:\n${rules}` });
  const view = { tool: 'kubectl_get', connection: 'prod', args: {} };
  return {
    judge: {
      call(facts: KubeFacts) {
        const d = decide(policy, principal, view, facts);
        return { allowed: d.effect === 'allow', reason: d.reason, ruleIds: d.ruleIds };
      },
      denies: () => null,
    },
  } as unknown as ExecContext;
}

const SCOPED = `  - id: web
    effect: allow
    tool: kubectl_get
    kubernetes: { pod_labels: { app: web }, kinds: [services, nodes] }
`;
const OPEN = `  - id: all
    effect: allow
    tool: kubectl_get
    kubernetes: { kinds: [services, nodes] }
`;
const DENY_TRACK = `  - id: no-canary
    effect: deny
    tool: kubectl_get
    kubernetes: { pod_labels: { track: canary } }
`;

const call = (kind: 'services' | 'nodes', name: string | null = null): KubeFacts => ({
  family: 'kubernetes', summary: '', verb: name ? 'get' : 'list', kind, namespace: kind === 'nodes' ? null : 'shop', name, container: null,
  podLabels: null, podLookup: 'not-applicable', podUid: null, labelSelector: null, revealKeys: [],
});

const svc = (name: string, spec: unknown) => ({ metadata: { name, namespace: 'shop' }, spec });
const kept = (r: { answer: unknown }) => (r.answer as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);

describe('service selectors', () => {
  test('a selector is read as the labels it fixes; anything else is unknown', () => {
    assert.deepEqual(serviceSelector(svc('a', { selector: { app: 'web' } })), { app: 'web' });
    assert.deepEqual(serviceSelector(svc('a', { selector: {} })), {});
    assert.equal(serviceSelector(svc('a', {})), null);
    assert.equal(serviceSelector(svc('a', { selector: null })), null);
    assert.equal(serviceSelector(svc('a', { selector: { app: 1 } })), null);
    assert.equal(serviceSelector(svc('a', { selector: 'app=web' })), null);
    assert.equal(serviceSelector(null), null);
  });

  test('only an ExternalName service without a selector selects no pods', () => {
    assert.equal(selectsNoPods(svc('a', { type: 'ExternalName', externalName: 'x.example' })), true);
    assert.equal(selectsNoPods(svc('a', { type: 'ExternalName', selector: { app: 'db' } })), false);
    assert.equal(selectsNoPods(svc('a', { type: 'ClusterIP' })), false);
    assert.equal(selectsNoPods(svc('a', undefined)), false);
  });

  const list = { kind: 'ServiceList', items: [
    svc('web', { selector: { app: 'web' } }),
    svc('web-stable', { selector: { app: 'web', track: 'stable' } }),
    svc('web-canary', { selector: { app: 'web', track: 'canary' } }),
    svc('db', { selector: { app: 'db' } }),
    svc('by-tier', { selector: { tier: 'frontend' } }),
    svc('manual', { ports: [{ port: 1 }] }),
    svc('all', { selector: {} }),
    svc('ext', { type: 'ExternalName', externalName: 'x.example' }),
  ] };

  test('an allow on pod labels keeps services whose selector fixes them', async () => {
    const r = await scopeServices(list, call('services'), ctxFor(SCOPED));
    assert.deepEqual(kept(r), ['web', 'web-stable', 'web-canary', 'ext']);
    assert.deepEqual(r.notes, ['4 services selecting pods outside what this principal may read were withheld']);
  });

  test('a deny on pod labels is hit unless the selector rules the label out', async () => {
    const r = await scopeServices(list, call('services'), ctxFor(OPEN + DENY_TRACK));
    assert.deepEqual(kept(r), ['web-stable', 'ext']);
  });

  test('without pod_labels every service is kept', async () => {
    const r = await scopeServices(list, call('services'), ctxFor(OPEN));
    assert.deepEqual(kept(r), list.items.map((i) => i.metadata.name));
  });

  test('a named service outside the grant is refused in the words of an absent one', async () => {
    await assert.rejects(scopeServices(svc('by-tier', { selector: { tier: 'frontend' } }), call('services', 'by-tier'), ctxFor(SCOPED)), (e: Error) => {
      assert.equal(e.message, 'service shop/by-tier is not among the services this grant reaches (absent, or outside the grant)');
      return true;
    });
  });

  test('without a judge nothing that selects pods is kept (fail closed)', async () => {
    const r = await scopeServices(list, call('services'), {} as ExecContext);
    assert.deepEqual(kept(r), ['ext']);
  });
});

describe('nodes', () => {
  const node = (name: string, status: unknown) => ({ metadata: { name }, status });
  const full = { conditions: [{ type: 'Ready' }], images: [{ names: ['db:1'] }], volumesInUse: ['v'], volumesAttached: [{ name: 'v' }], nodeInfo: { kubeletVersion: 'v1' } };

  test('under pod_labels a node loses its pods\' images and volumes, and keeps its own fields', () => {
    const r = scopeNodes({ items: [node('n1', full), node('n2', { conditions: [] })] }, call('nodes'), ctxFor(SCOPED));
    const items = (r.answer as { items: { status: Record<string, unknown> }[] }).items;
    assert.deepEqual(items[0]!.status, { conditions: [{ type: 'Ready' }], nodeInfo: { kubeletVersion: 'v1' } });
    assert.deepEqual(items[1]!.status, { conditions: [] });
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0]!, /status\.images, status\.volumesInUse, status\.volumesAttached of nodes are withheld/);
  });

  test('a status that is not an object is dropped whole; no note when nothing was there', () => {
    const r = scopeNodes(node('n1', ['images']), call('nodes', 'n1'), ctxFor(SCOPED));
    assert.deepEqual(r.answer, { metadata: { name: 'n1' } });
    assert.deepEqual(scopeNodes(node('n2', { conditions: [] }), call('nodes', 'n2'), ctxFor(SCOPED)).notes, []);
  });

  test('a deny on pod labels strips them too; without pod_labels the node is whole', () => {
    const denied = scopeNodes(node('n1', full), call('nodes', 'n1'), ctxFor(OPEN + DENY_TRACK));
    assert.equal((denied.answer as { status: Record<string, unknown> }).status.images, undefined);
    const open = scopeNodes(node('n1', full), call('nodes', 'n1'), ctxFor(OPEN));
    assert.deepEqual(open.answer, node('n1', full));
    assert.deepEqual(open.notes, []);
  });

  test('without a judge the fields are stripped (fail closed)', () => {
    const r = scopeNodes(node('n1', full), call('nodes', 'n1'), {} as ExecContext);
    assert.equal((r.answer as { status: Record<string, unknown> }).status.images, undefined);
  });
});
