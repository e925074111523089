/**
 * What an event about a PodDisruptionBudget or a Node is judged by: the labels a budget's
 * LabelSelector fixes (matchLabels and one-value `In` expressions; anything unreadable is
 * unknown), and whether a Node event is about the node's own state.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pdbSelector } from '../../../tools/kubernetes/selector-objects.js';
import { aboutNodeItself } from '../../../tools/kubernetes/node-scope.js';

const pdb = (selector: unknown) => ({ metadata: { name: 'p', namespace: 'shop' }, spec: { minAvailable: 1, selector } });
const expr = (key: string, operator: string, values?: unknown) => ({ key, operator, ...(values !== undefined ? { values } : {}) });

describe('PodDisruptionBudget selectors', () => {
  test('matchLabels and one-value In expressions fix labels', () => {
    assert.deepEqual(pdbSelector(pdb({ matchLabels: { app: 'web' } })), { app: 'web' });
    assert.deepEqual(pdbSelector(pdb({ matchExpressions: [expr('app', 'In', ['web'])] })), { app: 'web' });
    assert.deepEqual(pdbSelector(pdb({ matchLabels: { app: 'web' }, matchExpressions: [expr('app', 'In', ['web']), expr('tier', 'In', ['fe'])] })), { app: 'web', tier: 'fe' });
  });

  test('other expressions narrow the pods but fix nothing', () => {
    assert.deepEqual(pdbSelector(pdb({ matchLabels: { app: 'web' }, matchExpressions: [expr('quarantine', 'NotIn', ['true']), expr('track', 'Exists'), expr('x', 'DoesNotExist')] })), { app: 'web' });
    assert.deepEqual(pdbSelector(pdb({ matchExpressions: [expr('app', 'In', ['web', 'db'])] })), {});
    assert.deepEqual(pdbSelector(pdb({})), {}, 'an empty selector picks every pod');
  });

  test('a missing or unreadable selector is unknown', () => {
    assert.equal(pdbSelector(pdb(undefined)), null);
    assert.equal(pdbSelector(pdb(null)), null);
    assert.equal(pdbSelector(pdb('app=web')), null);
    assert.equal(pdbSelector(pdb({ matchLabels: { app: 1 } })), null);
    assert.equal(pdbSelector(pdb({ matchLabels: ['app'] })), null);
    assert.equal(pdbSelector(pdb({ matchExpressions: [expr('app', 'Gt', ['1'])] })), null);
    assert.equal(pdbSelector(pdb({ matchExpressions: [expr('app', 'In', [1])] })), null);
    assert.equal(pdbSelector(pdb({ matchExpressions: {} })), null);
    assert.equal(pdbSelector(pdb({ matchLabels: { app: 'web' }, matchExpressions: [expr('app', 'In', ['db'])] })), null, 'two values for one key');
    assert.equal(pdbSelector(null), null);
  });
});

describe('events about a Node', () => {
  test('only the reasons of the node\'s own state are about the node itself', () => {
    for (const reason of ['NodeReady', 'NodeNotReady', 'Starting', 'NodeHasDiskPressure', 'RegisteredNode', 'Rebooted']) assert.equal(aboutNodeItself({ reason }), true, reason);
    for (const reason of ['SystemOOM', 'ImageGCFailed', 'FreeDiskSpaceFailed', 'EvictionThresholdMet', 'TaskHung', 'KernelOops', '']) assert.equal(aboutNodeItself({ reason }), false, reason);
    assert.equal(aboutNodeItself({}), false);
    assert.equal(aboutNodeItself(null), false);
  });
});
