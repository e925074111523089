/**
 * Through the real `warden` bin: `approvals approve|list|show` count approving people as the gate
 * does (approval-rules.ts approvingPersons). Found: a request needing 2 that held one approval
 * recorded before reviewer names (pre-v16) and one named approval stayed pending at the gate (the
 * name-less one may be the same person), but `list` said 2/2 and `show` "approvals: 2 of 2".
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WARDEN_BIN } from '../support/repo.js';
import { cliStoreDir } from '../support/cli-store-dir.js';
import { NAMELESS_RULE_YAML, seedNamelessApproval } from '../support/nameless-approval.js';

const scratch = cliStoreDir('warden-cli-count-');
const dir = scratch.dir;

before(async () => {
  writeFileSync(join(dir, 'policies', 'empty.yaml'), NAMELESS_RULE_YAML);
  await seedNamelessApproval(join(dir, 'warden.db'));
});

function warden(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [WARDEN_BIN, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('one name-less and one named approval: approve, list and show say 1 of 2, as the gate counts', () => {
  const ok = warden('approvals', 'approve', 'r1', '--as', 'dana@corp.example', '--groups', 'dba');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /approval r1 is now pending, 1 of 2 approvals$/m);

  const list = warden('approvals', 'list');
  assert.equal(list.code, 0, list.err);
  const row = list.out.split('\n').find((l) => l.startsWith('r1\t'));
  assert.ok(row, list.out);
  assert.equal(row.split('\t')[5], '1/2', row);

  const show = warden('approvals', 'show', 'r1');
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /^approvals: {2}1 of 2$/m);
  assert.equal(show.out.match(/^decision: .* approve at /gm)?.length, 2, 'both decisions are listed');

  const json = JSON.parse(warden('approvals', 'show', 'r1', '--json').out) as { state: string; approvals: number; decisions: unknown[] };
  assert.deepEqual([json.state, json.approvals, json.decisions.length], ['pending', 1, 2]);
  const listed = JSON.parse(warden('approvals', 'list', '--json').out) as { id: string; approvals: number }[];
  assert.equal(listed.find((v) => v.id === 'r1')?.approvals, 1);
});
