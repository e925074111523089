/**
 * The transcript's session record names who vouched for an OIDC principal: the issuer that signed
 * its token (a `sub` is unique only within its issuer; approvals bind `oidc:<issuer>`, and after
 * identity.oidc.issuer changes, or on replicas of one store trusting two issuers, `sam` of each
 * was recorded alike) and the client the token names (azp, else client_id), beside the client
 * the agent claims in clientInfo (any name it likes). Real OIDC issuer and Streamable HTTP.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SRE_READ_ORDERS, startHttpWarden, type HttpWarden } from '../support/http-warden.js';

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': SRE_READ_ORDERS });
});
after(() => w?.stop());

function lastSessionPrincipal(): Record<string, unknown> {
  const t = new Database(w.dir.dbPath, { readonly: true });
  try {
    const row = t.prepare('SELECT principal, client FROM sessions ORDER BY open_seq DESC LIMIT 1').get() as { principal: string; client: string };
    return { ...(JSON.parse(row.principal) as Record<string, unknown>), client: JSON.parse(row.client) };
  } finally {
    t.close();
  }
}

async function callAs(claims: Record<string, unknown>, clientName: string, modern = false): Promise<void> {
  const token = await w.token('sam', ['sre'], claims);
  const transport = new StreamableHTTPClientTransport(new URL(`${w.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: clientName, version: '1' }, modern ? { versionNegotiation: { mode: 'auto' as const } } : {});
  await client.connect(transport);
  try {
    const r = await client.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql: 'SELECT id FROM orders WHERE id = 1' } });
    assert.notEqual(r.isError, true, JSON.stringify(r.content));
  } finally {
    await client.close();
  }
}

test('an HTTP session record names the issuer that signed the token and the client the token names', async () => {
  for (const modern of [false, true]) {
    await callAs({ azp: 'nightly-ci' }, 'claude-desktop', modern);
    const p = lastSessionPrincipal();
    assert.equal(p.subject, 'sam');
    assert.equal(p.issuer, w.issuer.issuer, JSON.stringify(p));
    assert.equal(p.tokenClient, 'nightly-ci', JSON.stringify(p));
    assert.deepEqual(p.client, { name: 'claude-desktop', version: '1' }, 'what the agent claims stays recorded as such');
  }
  // client_id when there is no azp; neither: no tokenClient.
  await callAs({ client_id: 'ops-cli' }, 'x');
  assert.equal(lastSessionPrincipal().tokenClient, 'ops-cli');
  await callAs({}, 'x');
  const bare = lastSessionPrincipal();
  assert.equal(bare.tokenClient, undefined);
  assert.equal(bare.issuer, w.issuer.issuer);
  assert.equal((await w.rt.store.verify()).ok, true);
});
