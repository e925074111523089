/**
 * `approvals.cli_as: refuse` in warden.yaml: `warden approvals approve|deny --as SUBJECT` (an
 * identity claim Warden cannot check) is a usage error naming WARDEN_UNAUTHENTICATED, and only a
 * verified token decides. The real CLI as a second process, against the store the server uses.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OidcIssuer } from '../support/oidc-issuer.js';
import type { WardenDir } from '../support/warden-process.js';
import { approvalsCli, cliShow, pendingCliRequest, reviewerCliSetup } from './support.js';

let issuer: OidcIssuer;
let dir: WardenDir;

const pendingRequest = (sql: string): Promise<string> => pendingCliRequest(dir.dbPath, sql, 'stdio');
const stateOf = async (id: string): Promise<string> => (await cliShow(dir.configPath, id)).state;

before(async () => {
  ({ issuer, dir } = await reviewerCliSetup('', 'approvals: { cli_as: refuse }\n'));
});

after(async () => {
  await issuer?.stop();
  dir?.cleanup();
});

test('approvals.cli_as: refuse: --as is a coded usage error for approve and deny (WARDEN_TOKEN set or not); the request stays pending', async () => {
  const id = await pendingRequest('UPDATE orders SET total = 1 WHERE id = 1');
  const token = await issuer.mint({ sub: 'dora', groups: ['dba'] });
  for (const [sub, env] of [['approve', {}], ['deny', {}], ['approve', { WARDEN_TOKEN: token }]] as const) {
    const r = await approvalsCli([sub, id, '--as', 'dana', '--groups', 'dba', '--config', dir.configPath], env);
    assert.equal(r.code, 2, `${sub}: ${r.out}${r.err}`);
    assert.match(r.err, /^warden: WARDEN_UNAUTHENTICATED: --as is refused here \(approvals\.cli_as: refuse in .*warden\.yaml\): approve and deny need a verified token: --token JWT or WARDEN_TOKEN/);
    assert.match(r.err, /usage: warden approvals/, 'the usage follows, as for any usage error');
    assert.equal(r.out, '');
    assert.ok(!r.err.includes(token));
  }
  assert.equal(await stateOf(id), 'pending');
  // list and show need no reviewer: unaffected.
  assert.equal((await approvalsCli(['list', '--config', dir.configPath])).code, 0);
});

test('approvals.cli_as: refuse: a verified token still approves', async () => {
  const id = await pendingRequest('UPDATE orders SET total = 2 WHERE id = 2');
  const r = await approvalsCli(['approve', id, '--token', await issuer.mint({ sub: 'dora', groups: ['dba'] }), '--config', dir.configPath]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^approved by dora \(token\)/);
  assert.equal(await stateOf(id), 'approved');
});
