/**
 * The `kubernetes:` condition, Kubernetes name validation and selectors, and how
 * kubectl_exec facts are judged by both `kubernetes:` and `shell:` in one rule.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../../src/policy/load.js';
import { decide } from '../../../src/policy/engine.js';
import type { Principal } from '../../../src/tool-api.js';
import { initShellParser, parseArgv, shellCondition, unwrapShellC } from '../../../tools/shared/shell/index.js';
import { kubernetesCondition } from '../../../tools/kubernetes/condition.js';
import type { KubeExecFacts, KubeFacts } from '../../../tools/kubernetes/facts.js';
import { argvToRun } from '../../../tools/kubernetes/kubectl-exec.js';
import { dnsLabel, dnsSubdomain, parseLabelSelector } from '../../../tools/kubernetes/names.js';

const base: KubeFacts = {
  family: 'kubernetes', summary: '', verb: 'get', kind: 'pods', namespace: 'shop', name: 'web-1', container: null,
  podLabels: { app: 'web' }, podLookup: 'found', podUid: 'u1', labelSelector: null, revealKeys: [],
};
const allow = (block: unknown, f: Partial<KubeFacts>) => kubernetesCondition.compile(block, { id: 'r', effect: 'allow' })({ ...base, ...f }, { tool: 't', connection: 'c', args: {} }).matched;
const deny = (block: unknown, f: Partial<KubeFacts>) => kubernetesCondition.compile(block, { id: 'r', effect: 'deny' })({ ...base, ...f }, { tool: 't', connection: 'c', args: {} }).matched;

describe('names', () => {
  test('DNS labels and subdomains refuse traversal, slashes, case and NUL', () => {
    for (const bad of ['../kube-system', 'Shop', 'a/b', 'a\0b', '', '-a', 'a'.repeat(64), 'a b', 'a%2fb']) assert.equal(dnsLabel.safeParse(bad).success, false, bad);
    for (const bad of ['web..1', '.web', 'web/1', 'WEB-1']) assert.equal(dnsSubdomain.safeParse(bad).success, false, bad);
    assert.equal(dnsSubdomain.safeParse('web-1.shop').success, true);
  });

  test('label selectors: equality forms only', () => {
    assert.deepEqual(parseLabelSelector('app=web, tier!=db,x,!y'), [
      { key: 'app', op: '=', value: 'web' }, { key: 'tier', op: '!=', value: 'db' }, { key: 'x', op: 'exists' }, { key: 'y', op: '!exists' },
    ]);
    for (const bad of ['app in (web)', 'app=web)', 'a=b=c', '=x']) assert.equal(parseLabelSelector(bad), null, bad);
  });
});

describe('kubernetes: allow', () => {
  test('namespaces, kinds, verbs, containers', () => {
    assert.equal(allow({ namespaces: ['shop'] }, {}), true);
    assert.equal(allow({ namespaces: ['shop'] }, { namespace: 'kube-system' }), false);
    assert.equal(allow({ namespaces: ['shop'] }, { namespace: null, verb: 'list', name: null }), false, 'all namespaces is outside a namespace grant');
    assert.equal(allow({ verbs: ['list'] }, {}), false);
    assert.equal(allow({ containers: ['app'] }, { verb: 'exec', container: 'sidecar' }), false);
    assert.equal(allow({ containers: ['app'] }, { verb: 'exec', container: 'app' }), true);
  });

  test('secrets must be listed explicitly; revealed keys must be granted', () => {
    assert.equal(allow({}, { kind: 'secrets' }), false);
    assert.equal(allow({ kinds: ['secrets'] }, { kind: 'secrets' }), true);
    assert.equal(allow({ kinds: ['secrets'] }, { kind: 'secrets', revealKeys: ['password'] }), false);
    assert.equal(allow({ kinds: ['secrets'], reveal_secret_keys: ['password'] }, { kind: 'secrets', revealKeys: ['password'] }), true);
  });

  test('pod_labels judge the labels read from the API; unknown labels never match', () => {
    assert.equal(allow({ pod_labels: { app: 'web' } }, {}), true);
    assert.equal(allow({ pod_labels: { app: 'web' } }, { podLabels: { app: 'db' } }), false);
    assert.equal(allow({ pod_labels: { app: 'web' } }, { podLabels: null, podLookup: 'not-found' }), false);
    assert.equal(allow({ pod_labels: { app: 'web' } }, { verb: 'list', name: null, labelSelector: [] }), false, 'a list must select the labels');
    assert.equal(allow({ pod_labels: { app: 'web' } }, { verb: 'list', name: null, labelSelector: [{ key: 'app', op: '=', value: 'web' }] }), true);
    assert.equal(allow({ pod_labels: { app: 'web' } }, { kind: 'services', name: 'web', podLabels: null, podLookup: 'not-applicable' }), true, 'pod_labels constrain pods only');
  });
});

describe('kubernetes: events about a pod', () => {
  const call: Partial<KubeFacts> = { kind: 'events', verb: 'list', name: null, podLabels: null, podLookup: 'not-applicable', podUid: null };
  const about = (labels: Record<string, string> | null): Partial<KubeFacts> => ({ ...call, involvedPod: 'pod shop/x', podLabels: labels, podLookup: labels ? 'found' : 'not-found' });

  test('the call itself is not judged by pod labels; each event is, by its pod', () => {
    assert.equal(allow({ pod_labels: { app: 'web' } }, call), true, 'the events read are judged one by one');
    assert.equal(allow({ pod_labels: { app: 'web' } }, about({ app: 'web' })), true);
    assert.equal(allow({ pod_labels: { app: 'web' } }, about({ app: 'db' })), false);
    assert.equal(allow({ pod_labels: { app: 'web' } }, about(null)), false, 'a pod of unknown labels is outside the grant');
    assert.equal(allow({}, about(null)), true, 'without pod_labels the labels do not matter');
    assert.equal(deny({ pod_labels: { app: 'db' } }, call), false);
    assert.equal(deny({ pod_labels: { app: 'db' } }, about({ app: 'db' })), true);
    assert.equal(deny({ pod_labels: { app: 'db' } }, about({ app: 'web' })), false);
    assert.equal(deny({ pod_labels: { app: 'db' } }, about(null)), true, 'unknown labels hit a deny');
  });

  test('reasons name the pod the event is about', () => {
    const why = kubernetesCondition.compile({ pod_labels: { app: 'web' } }, { id: 'r', effect: 'allow' })({ ...base, ...about({ app: 'db' }) }, { tool: 't', connection: 'c', args: {} }).why;
    assert.match(why, /^pod shop\/x does not carry label app=web$/);
  });

  test('an event about an object whose pods cannot be told (unknown) is outside every allow and inside every deny', () => {
    const unknown: Partial<KubeFacts> = { ...call, involvedPod: 'event shop/e about ConfigMap shop/x', podLabels: null, podLookup: 'unknown' };
    assert.equal(allow({ pod_labels: { app: 'web' } }, unknown), false);
    assert.equal(allow({ kinds: ['events'] }, unknown), true, 'without pod_labels it follows the call');
    assert.equal(deny({ pod_labels: { app: 'db' } }, unknown), true);
    const why = kubernetesCondition.compile({ pod_labels: { app: 'web' } }, { id: 'r', effect: 'allow' })({ ...base, ...unknown }, { tool: 't', connection: 'c', args: {} }).why;
    assert.match(why, /^event shop\/e about ConfigMap shop\/x: Warden cannot tell which pods it shows/);
  });
});

describe('kubernetes: workload objects and their pod templates', () => {
  const call: Partial<KubeFacts> = { kind: 'deployments', verb: 'list', name: null, podLabels: null, podLookup: 'not-applicable', podUid: null };
  const tpl = (labels: Record<string, string> | null, unknownLabelKeys?: string[]): Partial<KubeFacts> => ({
    ...call, involvedPod: 'the pod template of Deployment shop/x', podLabels: labels, podLookup: labels ? 'found' : 'not-found', ...(unknownLabelKeys ? { unknownLabelKeys } : {}),
  });

  test('the call is not judged by pod labels; each object is, by its template', () => {
    assert.equal(allow({ pod_labels: { app: 'web' } }, call), true);
    assert.equal(deny({ pod_labels: { app: 'web' } }, call), false);
    assert.equal(allow({ pod_labels: { app: 'web' } }, tpl({ app: 'web' })), true);
    assert.equal(allow({ pod_labels: { app: 'web' } }, tpl({ app: 'db' })), false);
    assert.equal(allow({ pod_labels: { app: 'web' } }, tpl(null)), false);
    assert.equal(deny({ pod_labels: { app: 'db' } }, tpl({ app: 'db' })), true);
    assert.equal(deny({ pod_labels: { app: 'db' } }, tpl(null)), true);
    assert.equal(deny({ kinds: ['events'], pod_labels: { app: 'db' } }, tpl({ app: 'db' })), false, 'a deny limited to other kinds');
  });

  test('labels the controller sets on the pods are unknown on the template: no allow, every deny', () => {
    const job = tpl({ app: 'db', 'job-name': 'fake' }, ['job-name', 'controller-uid']);
    assert.equal(allow({ pod_labels: { app: 'db' } }, job), true);
    assert.equal(allow({ pod_labels: { 'job-name': 'fake' } }, job), false, 'the controller overwrites it');
    assert.equal(deny({ pod_labels: { 'job-name': 'migrate' } }, job), true);
    assert.equal(deny({ pod_labels: { 'job-name': 'migrate', app: 'web' } }, job), false, 'every denied label must still be possible');
    const why = kubernetesCondition.compile({ pod_labels: { 'job-name': 'x' } }, { id: 'r', effect: 'allow' })({ ...base, ...job }, { tool: 't', connection: 'c', args: {} }).why;
    assert.match(why, /^the pod template of Deployment shop\/x: label job-name of its pods is set by their controller/);
  });

  test('reasons name the template', () => {
    const why = kubernetesCondition.compile({ pod_labels: { app: 'web' } }, { id: 'r', effect: 'allow' })({ ...base, ...tpl({ app: 'db' }) }, { tool: 't', connection: 'c', args: {} }).why;
    assert.equal(why, 'the pod template of Deployment shop/x does not carry label app=web');
  });
});

describe('kubernetes: services, by the labels their selector fixes', () => {
  const call: Partial<KubeFacts> = { kind: 'services', verb: 'list', name: null, podLabels: null, podLookup: 'not-applicable', podUid: null };
  const sel = (labels: Record<string, string> | null): Partial<KubeFacts> => ({
    ...call, involvedPod: 'the pods selected by Service shop/x', podLabels: labels, podLookup: labels ? 'found' : 'not-found', ...(labels ? { otherLabelsUnknown: true } : {}),
  });

  test('an allow needs the selector to fix every granted label', () => {
    assert.equal(allow({ pod_labels: { app: 'web' } }, call), true, 'the services read are judged one by one');
    assert.equal(allow({ pod_labels: { app: 'web' } }, sel({ app: 'web', tier: 'x' })), true);
    assert.equal(allow({ pod_labels: { app: 'web', tier: 'x' } }, sel({ app: 'web' })), false, 'tier is not fixed');
    assert.equal(allow({ pod_labels: { app: 'web' } }, sel({})), false, 'an empty selector picks every pod');
    assert.equal(allow({ pod_labels: { app: 'web' } }, sel(null)), false);
    const why = kubernetesCondition.compile({ pod_labels: { tier: 'x' } }, { id: 'r', effect: 'allow' })({ ...base, ...sel({ app: 'web' }) }, { tool: 't', connection: 'c', args: {} }).why;
    assert.equal(why, 'the pods selected by Service shop/x: the selector does not fix label tier, so they need not carry tier=x');
  });

  test('a deny is hit unless the selector rules the label out', () => {
    assert.equal(deny({ pod_labels: { track: 'canary' } }, call), false);
    assert.equal(deny({ pod_labels: { track: 'canary' } }, sel({ app: 'web' })), true, 'track is open');
    assert.equal(deny({ pod_labels: { track: 'canary' } }, sel({ app: 'web', track: 'stable' })), false);
    assert.equal(deny({ pod_labels: { track: 'canary' } }, sel({ track: 'canary' })), true);
    assert.equal(deny({ pod_labels: { track: 'canary', app: 'db' } }, sel({ app: 'web' })), false, 'app=web rules app=db out');
    assert.equal(deny({ pod_labels: { track: 'canary' } }, sel(null)), true);
    assert.equal(deny({ pod_labels: { constructor: 'x' } }, sel({ app: 'web' })), true, 'an inherited name is no label');
    assert.equal(deny({ pod_labels: { track: 'canary' } }, { ...sel({ app: 'web' }), otherLabelsUnknown: false }), false, 'only selector facts leave other keys open');
  });
});

describe('kubernetes: deny', () => {
  test('every key given must match; unknown labels and all-namespaces count as a hit', () => {
    assert.equal(deny({ namespaces: ['kube-system'] }, {}), false);
    assert.equal(deny({ namespaces: ['kube-system'] }, { namespace: 'kube-system' }), true);
    assert.equal(deny({ namespaces: ['kube-system'] }, { namespace: null, name: null, verb: 'list' }), true);
    assert.equal(deny({ namespaces: ['shop'], kinds: ['secrets'] }, {}), false);
    assert.equal(deny({ pod_labels: { app: 'web' } }, { podLabels: null, podLookup: 'forbidden' }), true);
    assert.equal(deny({ containers: ['sidecar'] }, {}), false, 'a get involves no container');
  });

  test('the block schema is strict', () => {
    assert.throws(() => kubernetesCondition.compile({ namespace: ['shop'] }, { id: 'r', effect: 'allow' }));
    assert.throws(() => kubernetesCondition.compile({ kinds: ['crds'] }, { id: 'r', effect: 'allow' }));
  });
});

describe('kubectl_exec facts are judged by kubernetes: and shell: together', () => {
  const policy = compilePolicy(['p.yaml'], [kubernetesCondition, shellCondition], {
    'p.yaml': `
rules:
  - id: sre-pods
    effect: allow
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
    shell: { pipelines: true, programs: { ls: { paths: [/app] }, cat: { paths: [/app] } } }
`,
  });
  const p: Principal = { subject: 's', groups: [], claims: {}, authMethod: 'stdio' };
  const facts = (argv: string[], over: Partial<KubeExecFacts> = {}): KubeExecFacts => {
    const sh = unwrapShellC(argv) ?? parseArgv(argv);
    return { ...base, family: 'kubernetes-exec', verb: 'exec', container: 'app', argv, commands: sh.commands, pipelines: sh.pipelines, constructs: sh.constructs, source: sh.source, ...over };
  };
  const judge = (f: KubeExecFacts) => decide(policy, p, { tool: 'kubectl_exec', connection: 'prod', args: {} }, f).effect;

  test('both blocks must hold', async () => {
    await initShellParser();
    assert.equal(judge(facts(['ls', '/app'])), 'allow');
    assert.equal(judge(facts(['sh', '-c', 'ls /app | cat'])), 'allow');
    assert.equal(judge(facts(['rm', '-rf', '/app'])), 'deny', 'shell: refuses the program');
    assert.equal(judge(facts(['sh', '-c', 'ls /app; rm -rf /app'])), 'deny', 'shell: refuses the list');
    assert.equal(judge(facts(['ls', '/app'], { podLabels: { app: 'db' } })), 'deny', 'kubernetes: refuses the pod');
    assert.equal(judge(facts(['ls', '/app'], { container: 'sidecar' })), 'deny', 'kubernetes: refuses the container');
  });

  test('an allowed sh -c script runs rebuilt from its parsed words', async () => {
    await initShellParser();
    assert.deepEqual(argvToRun(facts(['sh', '-c', "ls   '/app' |cat"])), ['sh', '-c', "'ls' /app | 'cat'"]);
    assert.deepEqual(argvToRun(facts(['ls', '/app'])), ['ls', '/app']);
  });

  test('psql, mysql and sqlite3 run (argv or sh -c) without reading their start-up files', async () => {
    await initShellParser();
    assert.deepEqual(argvToRun(facts(['psql', '-c', 'select 1'])), ['psql', '-X', '-c', 'select 1']);
    assert.deepEqual(argvToRun(facts(['/usr/bin/mysql', '-e', 'select 1'])), ['/usr/bin/mysql', '--no-defaults', '-e', 'select 1']);
    assert.deepEqual(argvToRun(facts(['sh', '-c', 'sqlite3 /a.db .tables'])), ['sh', '-c', "'sqlite3' -init /dev/null /a.db .tables"]);
  });
});
