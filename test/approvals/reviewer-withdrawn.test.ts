/**
 * A reviewer who loses the group that made them a reviewer: the next time Warden sees them with a
 * verified token (here `warden approvals approve|deny --token`) whose groups no longer qualify,
 * their approvals on requests still open (pending, or approved and not yet used) are withdrawn:
 * recorded as a `withdrawn` event, no longer counted, an approved request back to pending (so the
 * call does not run on it); other reviewers' approvals stay; the transcript still verifies.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { OidcIssuer } from '../support/oidc-issuer.js';
import type { WardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';
import { approvalEvents, approvalsCli, cliShow, pendingCliRequest, reviewerCliSetup } from './support.js';

let issuer: OidcIssuer;
let dir: WardenDir;

const pendingRequest = (sql: string): Promise<string> => pendingCliRequest(dir.dbPath, sql, 'oidc');
const token = (sub: string, groups: string[]) => issuer.mint({ sub, groups, scope: 'openid warden.review' });
const cli = async (args: string[]) => approvalsCli([...args, '--config', dir.configPath]);

function verify(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WARDEN_BIN, 'transcripts', 'verify', '--config', dir.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

before(async () => {
  ({ issuer, dir } = await reviewerCliSetup());
});

after(async () => {
  await issuer?.stop();
  dir?.cleanup();
});

test('a reviewer seen again with a token that no longer carries the group loses the approvals not yet used', async () => {
  const byAlice = await pendingRequest('UPDATE orders SET total = 1 WHERE id = 1');
  const byDora = await pendingRequest('UPDATE orders SET total = 2 WHERE id = 2');
  const asDba = await cli(['approve', byAlice, '--token', await token('alice', ['dba'])]);
  assert.equal(asDba.code, 0, asDba.err);
  assert.equal((await cliShow(dir.configPath, byAlice)).state, 'approved');
  assert.equal((await cli(['approve', byDora, '--token', await token('dora', ['dba'])])).code, 0);

  // alice has been taken off dba at the IdP: her next token lacks the group. Her decision on a
  // third request is refused (not a reviewer), and her earlier approval no longer counts.
  const third = await pendingRequest('UPDATE orders SET total = 3 WHERE id = 3');
  const offDba = await cli(['approve', third, '--token', await token('alice', ['sre'])]);
  assert.equal(offDba.code, 1, offDba.out + offDba.err);
  assert.match(offDba.err, /not a reviewer/);
  assert.match(offDba.err, /withdr[ae]wn?.*1 approval|1 approval.*withdrawn/i, 'the refusal says what was withdrawn');

  const v = await cliShow(dir.configPath, byAlice);
  assert.equal(v.state, 'pending', 'the approved, unused request is back to pending');
  assert.deepEqual(v.decisions, []);
  const events = await approvalEvents(dir.configPath, byAlice);
  const withdrawn = events.find((e) => e.event === 'withdrawn');
  assert.ok(withdrawn, `a withdrawn record: ${JSON.stringify(events)}`);
  assert.equal(withdrawn.reviewer, 'alice');
  assert.equal(withdrawn.from, 'approved');
  assert.match(String(withdrawn.reason), /no longer a reviewer/);

  // dora's approval elsewhere stands; the requester's call does not run on alice's withdrawn one
  // (the gate takes the pending request up again and answers "pending").
  assert.equal((await cliShow(dir.configPath, byDora)).state, 'approved');
  assert.equal(await pendingRequest('UPDATE orders SET total = 1 WHERE id = 1'), byAlice);

  // Another dba reviewer approves it again, and the transcript (tables against records) verifies.
  assert.equal((await cli(['approve', byAlice, '--token', await token('omar', ['dba'])])).code, 0);
  assert.equal((await cliShow(dir.configPath, byAlice)).state, 'approved');
  const ok = await verify();
  assert.equal(ok.code, 0, ok.out);
});

test('a token that still qualifies withdraws nothing', async () => {
  const id = await pendingRequest('UPDATE orders SET total = 5 WHERE id = 5');
  assert.equal((await cli(['approve', id, '--token', await token('ivan', ['dba'])])).code, 0);
  const other = await pendingRequest('UPDATE orders SET total = 6 WHERE id = 6');
  assert.equal((await cli(['deny', other, '--token', await token('ivan', ['dba', 'sre'])])).code, 0);
  assert.equal((await cliShow(dir.configPath, id)).state, 'approved');
  assert.ok(!(await approvalEvents(dir.configPath, id)).some((e) => e.event === 'withdrawn'));
});
