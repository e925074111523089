/**
 * reachedBesides on pod specs alone (no API server): which other containers a call on one
 * container reaches. Why a unit test beside the pipeline ones: the process namespace an
 * ephemeral container joins is shared both ways (`kubectl debug --target=app` puts the debug
 * container's processes in app's `ps eww`), and every shape of it is cheaper to pin here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reachedBesides, reachOf } from '../../../tools/kubernetes/container-reach.js';

const spec = (ephemeral: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  reachOf({ containers: [{ name: 'app' }, { name: 'vault-agent' }], ephemeralContainers: ephemeral, ...extra });

test('exec into a container reaches every ephemeral container targeting it; logs do not', () => {
  const r = spec([{ name: 'debugger', targetContainerName: 'app' }]);
  assert.deepEqual(reachedBesides(r, 'app', 'exec'), ['debugger']);
  assert.deepEqual(reachedBesides(r, 'app', 'logs'), []);
  // The other direction, as before: the debug container reaches its target, exec and logs.
  assert.deepEqual(reachedBesides(r, 'debugger', 'exec'), ['app']);
  assert.deepEqual(reachedBesides(r, 'debugger', 'logs'), ['app']);
  // A container no ephemeral container targets reaches none of them.
  assert.deepEqual(reachedBesides(r, 'vault-agent', 'exec'), []);
});

test('two debug containers targeting the same container share one process namespace', () => {
  const r = spec([
    { name: 'dbg-1', targetContainerName: 'app' },
    { name: 'dbg-2', targetContainerName: 'app' },
    { name: 'dbg-vault', targetContainerName: 'vault-agent' },
  ]);
  assert.deepEqual(reachedBesides(r, 'app', 'exec'), ['dbg-1', 'dbg-2']);
  assert.deepEqual(reachedBesides(r, 'dbg-1', 'exec'), ['app', 'dbg-2']);
  assert.deepEqual(reachedBesides(r, 'vault-agent', 'exec'), ['dbg-vault']);
  // Logs stay the log's own target.
  assert.deepEqual(reachedBesides(r, 'dbg-1', 'logs'), ['app']);
});

test('a target chained through another ephemeral container (invalid, but fail closed): one namespace', () => {
  const r = spec([{ name: 'dbg-1', targetContainerName: 'app' }, { name: 'dbg-2', targetContainerName: 'dbg-1' }]);
  assert.deepEqual(reachedBesides(r, 'app', 'exec'), ['dbg-1', 'dbg-2']);
  assert.deepEqual(reachedBesides(r, 'dbg-2', 'exec'), ['app', 'dbg-1']);
});

test('volumes and shareProcessNamespace reach as before, together with targets', () => {
  const r = reachOf({
    containers: [{ name: 'app', volumeMounts: [{ name: 's' }] }, { name: 'vault-agent', volumeMounts: [{ name: 's' }] }, { name: 'other' }],
    ephemeralContainers: [{ name: 'debugger', targetContainerName: 'app' }],
  });
  assert.deepEqual(reachedBesides(r, 'app', 'exec'), ['debugger', 'vault-agent']);
  assert.deepEqual(reachedBesides(r, 'app', 'logs'), []);
  const shared = spec([{ name: 'debugger' }], { shareProcessNamespace: true });
  assert.deepEqual(reachedBesides(shared, 'app', 'exec'), ['debugger', 'vault-agent']);
  assert.equal(reachedBesides(shared, 'nope', 'exec'), null);
});
