/**
 * paths.ts normalisePath through a process's view of the filesystem: `/proc/PID/root` (a task's,
 * any word in the PID's place: the shell expands a star there) names the path inside it (a `..`
 * after the link stays in that root); `/proc/PID/cwd` is a folder Warden cannot know (null, as a
 * relative word). The end-to-end leak it closes is in test/e2e/kubernetes-proc-root.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aboveProcRoots, normalisePath, underPrefix } from '../../../tools/shared/shell/paths.js';

test('normalisePath: the path a /proc root link names; other paths normalised; relative and working-folder paths null', () => {
  const cases: [string, string | null][] = [
    ['/proc/self/root/etc/x', '/etc/x'],
    ['/proc/1/root', '/'],
    ['/proc//1/./root/run/secrets/t', '/run/secrets/t'],
    ['/proc/1/root/../run/secrets/t', '/run/secrets/t'],
    ['/proc/1/root/proc/2/root/etc/x', '/etc/x'],
    ['/proc/thread-self/task/7/cwd/etc/x', null],
    ['/proc/thread-self/task/7/root/etc/x', '/etc/x'],
    ['/proc/*/root/etc/x', '/etc/x'],
    ['/proc/meminfo', '/proc/meminfo'],
    ['/proc/1/status', '/proc/1/status'],
    ['/proc/1/rootfs/x', '/proc/1/rootfs/x'],
    ['/srv/proc/1/root/x', '/srv/proc/1/root/x'],
    ['/app/../etc/x', '/etc/x'],
    ['etc/x', null],
  ];
  for (const [path, want] of cases) assert.equal(normalisePath(path), want, path);
});

test('underPrefix: both the path and where a /proc link leads lie under the grant; aboveProcRoots: /proc, /proc/PID, its tasks', () => {
  assert.equal(underPrefix('/proc/meminfo', ['/proc']), true);
  assert.equal(underPrefix('/proc/1/root/etc/x', ['/proc']), false);
  assert.equal(underPrefix('/proc/1/root/app/x', ['/proc', '/app']), true);
  assert.equal(underPrefix('/proc/1/root/app/x', ['/app']), false);
  for (const p of ['/proc', '/proc/1', '/proc/self/task', '/proc/1/task/7']) assert.equal(aboveProcRoots(p), true, p);
  for (const p of ['/proc/1/status', '/proc/1/task/7/status', '/procs']) assert.equal(aboveProcRoots(p), false, p);
});
