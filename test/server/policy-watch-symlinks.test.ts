/**
 * Deploys that swap a symlink: `current -> releases/v1` replaced by `current -> releases/v2`
 * (`ln -sfn`, capistrano, a git-sync sidecar), and policy files that are links into another
 * folder. The watcher watches folders by inode, so it must notice the link move and follow it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRuntime } from '../../src/server/runtime.js';
import { watchPolicies } from '../../src/server/policy-watch.js';
import { families } from '../../tools/index.js';
import { writeWardenDir } from '../support/warden-process.js';
import { until } from '../support/http-warden.js';

const rule = (id: string, table: string) => `rules:\n  - { id: ${id}, effect: allow, who: { groups: [dev] }, tool: query_database, sql: { read: [public.${table}] } }\n`;
const ids = (rt: { policy(): { rules: { id: string }[] } }) => rt.policy().rules.map((r) => r.id).sort().join(',');
const quiet = () => undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a policy folder reached through a symlink that a deploy swaps is reloaded, and the new target is watched, the old one let go', async () => {
  const dir = writeWardenDir('transcripts: { store: sqlite:warden.db }\npolicies: [current/*.yaml]\n', {});
  for (const v of ['v1', 'v2']) mkdirSync(join(dir.dir, 'releases', v), { recursive: true });
  writeFileSync(join(dir.dir, 'releases', 'v1', 'a.yaml'), rule('one', 't'));
  writeFileSync(join(dir.dir, 'releases', 'v2', 'a.yaml'), rule('two', 't'));
  symlinkSync(join('releases', 'v1'), join(dir.dir, 'current'));
  const rt = await startRuntime(dir.configPath, families);
  const stop = watchPolicies(rt, quiet, { debounceMs: 30, settleMs: 30, sighup: false });
  try {
    assert.equal(ids(rt), 'one');
    // The atomic swap deploy tools do: a new link beside the old, renamed over it.
    symlinkSync(join('releases', 'v2'), join(dir.dir, 'current.next'));
    renameSync(join(dir.dir, 'current.next'), join(dir.dir, 'current'));
    await until(() => ids(rt) === 'two', 5000, 'the swapped link to be reloaded without SIGHUP');
    // The watch follows the link: an edit in the new target reloads...
    writeFileSync(join(dir.dir, 'releases', 'v2', 'b.yaml'), rule('three', 'u'));
    await until(() => ids(rt) === 'three,two', 5000, 'an edit in the new target to be reloaded');
    // ...and the old target no longer counts (it is not what `current` names).
    const version = rt.policy().version;
    writeFileSync(join(dir.dir, 'releases', 'v1', 'c.yaml'), rule('stale', 'v'));
    await sleep(400);
    assert.equal(rt.policy().version, version);
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});

test('a policy file that links into another folder is reloaded when its target changes', async () => {
  const dir = writeWardenDir('transcripts: { store: sqlite:warden.db }\npolicies: [policies/*.yaml]\n', {});
  mkdirSync(join(dir.dir, 'shared'));
  writeFileSync(join(dir.dir, 'shared', 'team.yaml'), rule('one', 't'));
  symlinkSync(join('..', 'shared', 'team.yaml'), join(dir.dir, 'policies', 'team.yaml'));
  const rt = await startRuntime(dir.configPath, families);
  const stop = watchPolicies(rt, quiet, { debounceMs: 30, settleMs: 30, sighup: false });
  try {
    assert.equal(ids(rt), 'one');
    writeFileSync(join(dir.dir, 'shared', 'team.yaml'), rule('two', 't'));
    await until(() => ids(rt) === 'two', 5000, 'an edit of the link target to be reloaded');
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});
