/**
 * Where each workload kind keeps its pod template, and what counts as unreadable: the labels
 * a workload object (or an event about one) is judged with under a pod_labels grant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addedLabelKeys, isWorkloadKind, templateLabels } from '../../../tools/kubernetes/pod-templates.js';

const tpl = (labels: unknown) => ({ spec: { template: { metadata: { labels }, spec: { containers: [] } } } });

test('spec.template for most kinds, spec.jobTemplate.spec.template for a CronJob', () => {
  for (const k of ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController']) assert.deepEqual(templateLabels(k, tpl({ app: 'web' })), { app: 'web' }, k);
  assert.deepEqual(templateLabels('CronJob', { spec: { jobTemplate: { spec: { template: { metadata: { labels: { app: 'db' } } } } } } }), { app: 'db' });
  assert.equal(templateLabels('CronJob', tpl({ app: 'web' })), null, 'a CronJob is not read where a Deployment keeps its template');
});

test('no template, or a malformed one, is unknown; a template without labels has none', () => {
  assert.equal(templateLabels('Deployment', { spec: { replicas: 1 } }), null);
  assert.equal(templateLabels('Deployment', {}), null);
  assert.equal(templateLabels('Deployment', null), null);
  assert.equal(templateLabels('Deployment', tpl(['app=web'])), null);
  assert.equal(templateLabels('Deployment', tpl({ app: 1 })), null);
  assert.deepEqual(templateLabels('Deployment', { spec: { template: { spec: {} } } }), {});
  assert.deepEqual(templateLabels('Deployment', tpl(undefined)), {});
});

test('workload kinds, and the pod labels their controllers add', () => {
  for (const k of ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']) assert.equal(isWorkloadKind(k), true, k);
  for (const k of ['Pod', 'Service', 'Node', 'HorizontalPodAutoscaler', 'deployments']) assert.equal(isWorkloadKind(k), false, k);
  assert.ok(addedLabelKeys('Deployment').includes('pod-template-hash'));
  assert.ok(addedLabelKeys('StatefulSet').includes('statefulset.kubernetes.io/pod-name'));
  assert.ok(addedLabelKeys('CronJob').includes('job-name'));
  assert.deepEqual(addedLabelKeys('Service'), []);
});
