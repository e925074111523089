/**
 * `warden approvals approve|deny --token JWT` (and WARDEN_TOKEN): the reviewer's token is checked
 * like any other token, required_scopes included; `--token` and `--as` together are a usage error;
 * the confirmation names the token's subject and says it came from a token.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OidcIssuer } from '../support/oidc-issuer.js';
import type { WardenDir } from '../support/warden-process.js';
import { approvalsCli, cliShow, pendingCliRequest, reviewerCliSetup } from './support.js';

let issuer: OidcIssuer;
let dir: WardenDir;

const pendingRequest = (sql: string): Promise<string> => pendingCliRequest(dir.dbPath, sql, 'oidc');
const stateOf = (id: string) => cliShow(dir.configPath, id);

before(async () => {
  ({ issuer, dir } = await reviewerCliSetup(', required_scopes: [warden.review]'));
});

after(async () => {
  await issuer?.stop();
  dir?.cleanup();
});

test('a reviewer token without the required scope is refused (--token and WARDEN_TOKEN); the request stays pending', async () => {
  const id = await pendingRequest('UPDATE orders SET total = 1 WHERE id = 1');
  const openidOnly = await issuer.mint({ sub: 'dora', groups: ['dba'], scope: 'openid' });
  const viaFlag = await approvalsCli(['approve', id, '--token', openidOnly, '--config', dir.configPath]);
  assert.equal(viaFlag.code, 1, viaFlag.out + viaFlag.err);
  assert.match(viaFlag.err, /WARDEN_UNAUTHENTICATED/);
  assert.match(viaFlag.err, /lacks the required scope\(s\): warden\.review/);
  assert.ok(!viaFlag.err.includes(openidOnly), 'the token is not echoed');
  assert.equal(viaFlag.out, '');

  const viaEnv = await approvalsCli(['deny', id, '--config', dir.configPath], { WARDEN_TOKEN: openidOnly });
  assert.equal(viaEnv.code, 1, viaEnv.out + viaEnv.err);
  assert.match(viaEnv.err, /warden\.review/);

  const noScope = await approvalsCli(['approve', id, '--token', await issuer.mint({ sub: 'dora', groups: ['dba'] }), '--config', dir.configPath]);
  assert.equal(noScope.code, 1, 'a token with no scope claim at all is refused too');

  const v = await stateOf(id);
  assert.equal(v.state, 'pending');
  assert.deepEqual(v.decisions, []);
});

test('a reviewer token with the required scope approves, and the output names its subject as a token reviewer', async () => {
  const id = await pendingRequest('UPDATE orders SET total = 2 WHERE id = 2');
  const token = await issuer.mint({ sub: 'dora', groups: ['dba'], scope: 'openid warden.review' });
  const r = await approvalsCli(['approve', id, '--token', token, '--comment', 'ok', '--config', dir.configPath]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^approved by dora \(token\): approval \S+ is now approved/);
  assert.doesNotMatch(r.out, /local/);
  const v = await stateOf(id);
  assert.equal(v.state, 'approved');
  // The decision records the issuer that vouched for the reviewer (approvals/subjects.ts identitySource).
  assert.deepEqual(v.decisions.map((d) => [d.reviewer, d.auth]), [['dora', `oidc:${issuer.issuer}`]]);

  // WARDEN_TOKEN with the scope works the same way (here: a deny).
  const id2 = await pendingRequest('UPDATE orders SET total = 3 WHERE id = 3');
  const d = await approvalsCli(['deny', id2, '--config', dir.configPath], { WARDEN_TOKEN: await issuer.mint({ sub: 'omar', groups: ['dba'], scope: 'warden.review' }) });
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /^denied by omar \(token\)/);
  assert.equal((await stateOf(id2)).state, 'denied');
});

test('--token with --as (or --groups without --as) is a usage error (exit 2); nothing is decided', async () => {
  const id = await pendingRequest('UPDATE orders SET total = 4 WHERE id = 4');
  const token = await issuer.mint({ sub: 'dora', groups: ['dba'], scope: 'warden.review' });
  const both = await approvalsCli(['approve', id, '--token', token, '--as', 'dana', '--groups', 'dba', '--config', dir.configPath]);
  assert.equal(both.code, 2, both.out + both.err);
  assert.match(both.err, /--token and --as/);
  assert.ok(!both.err.includes(token), 'the token is not echoed');
  const bothDeny = await approvalsCli(['deny', id, '--as', 'dana', '--token', token, '--config', dir.configPath]);
  assert.equal(bothDeny.code, 2);
  const groups = await approvalsCli(['approve', id, '--token', token, '--groups', 'dba', '--config', dir.configPath]);
  assert.equal(groups.code, 2);
  assert.match(groups.err, /--groups goes with --as/);
  assert.equal((await stateOf(id)).state, 'pending');

  // A local reviewer still works, and is shown as local.
  const local = await approvalsCli(['approve', id, '--as', 'dana', '--groups', 'dba', '--config', dir.configPath]);
  assert.equal(local.code, 0, local.err);
  assert.match(local.out, /^approved by dana \(local\)/);
});
