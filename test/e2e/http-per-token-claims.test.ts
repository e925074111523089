/**
 * A rule on a per-token claim (`jti`, OIDC `sid`, `nonce`, `exp`, ...) over real HTTP. Warden
 * keeps those claims off the principal (identity/claims.ts: a session must survive a token
 * refresh), so such a rule could never match: a deny written to revoke one leaked token
 * (`claims: { jti: ... }`) or one IdP session (`sid`) loaded fine and stopped nothing (a red-team
 * pass ran a query with the "revoked" token). It is refused when the policy loads, a reload too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHttpAgent } from '../support/http-agent.js';
import { httpWardenForFile, SRE_READ_ORDERS } from '../support/http-warden.js';

const warden = httpWardenForFile({ 'base.yaml': SRE_READ_ORDERS });

test('a deny on a per-token claim (jti, sid) is refused at reload, not loaded as a rule that stops nothing', async () => {
  const leaked = await warden().token('alice', ['sre'], { jti: 'leaked-1', sid: 'idp-session-9' });
  for (const [claim, value] of [['jti', 'leaked-1'], ['sid', 'idp-session-9']] as const) {
    writeFileSync(join(warden().dir.dir, 'policies', 'revoke.yaml'), `
rules:
  - id: revoke-${claim}
    effect: deny
    who: { claims: { ${claim}: ${value} } }
    tool: query_database
    reason: revoked
`);
    let refused: unknown;
    try {
      warden().rt.reload();
    } catch (e) {
      refused = e;
    }
    if (refused === undefined) {
      // The hole: the deny loaded; show what it let through.
      const a = await connectHttpAgent(warden().url, leaked);
      try {
        const r = await a.call('query_database', { connection: 'analytics', sql: 'SELECT id, total FROM orders' });
        assert.fail(`a deny on ${claim} loaded and the ${claim} token was ${r.isError ? 'refused' : 'served'}: ${r.text.slice(0, 120)}`);
      } finally {
        await a.close();
      }
    }
    assert.equal((refused as { code?: string }).code, 'WARDEN_CONFIG');
    assert.match(String((refused as Error).message), new RegExp(`revoke\\.yaml:\\d+.*claims\\.${claim}.*per-token claim`));
  }
});

test('the running policy stays, and an ordinary claim still loads', async () => {
  writeFileSync(join(warden().dir.dir, 'policies', 'revoke.yaml'), `
rules:
  - id: revoke-repo
    effect: deny
    who: { claims: { repository: acme/leaked } }
    tool: query_database
    reason: revoked
`);
  const policy = warden().rt.reload();
  assert.ok(policy.rules.some((r) => r.id === 'revoke-repo'));
  const a = await connectHttpAgent(warden().url, await warden().token('alice', ['sre'], { repository: 'acme/leaked' }));
  try {
    const r = await a.call('query_database', { connection: 'analytics', sql: 'SELECT id, total FROM orders' });
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /revoke-repo/);
  } finally {
    await a.close();
  }
});
