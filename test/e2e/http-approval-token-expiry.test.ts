/**
 * A call that waits for approval inside its HTTP request must not run on a token that expired
 * while it waited (a red-team finding: only the GET stream ended at expiry). Real OIDC issuer,
 * real PostgreSQL, a real Streamable HTTP client; the approval is given through the service after
 * the token's exp. The call is refused (WARDEN_UNAUTHENTICATED), the UPDATE did not run, and the
 * approval is not used: the same call with a fresh token runs on it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';
import type { Principal } from '../../src/tool-api.js';

const POLICY = `
rules:
  - id: reviewed-update
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 30s }
  - id: confirmed-update
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.users] }
    approval: { confirm: requester }
`;

const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
  await w.db.query(`GRANT UPDATE ON orders, users TO ${w.db.role}`);
});
after(() => w?.stop());

async function connect(token: string, modern: boolean): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${w.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'waiting-agent', version: '1' }, modern ? { versionNegotiation: { mode: 'auto' as const } } : {});
  await client.connect(transport);
  return client;
}

const textOf = (r: { content?: unknown }) => ((r.content ?? []) as { text?: string }[]).map((c) => c.text ?? '').join('\n');
const total = async (id: number) => String((await w.db.query(`SELECT total FROM orders WHERE id = ${id}`)).rows[0]!.total);

async function pendingFor(sql: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const open = await w.rt.approvals!.list({ state: 'pending' });
    const mine = open.find((a) => JSON.stringify(a).includes(sql));
    if (mine) return mine.id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no pending approval appeared');
}

async function refusedAfterExpiry(modern: boolean, id: number): Promise<void> {
  const sql = `UPDATE orders SET total = 999 WHERE id = ${id}`;
  const before = await total(id);
  const expiresIn = 3;
  const minted = Date.now();
  const client = await connect(await w.issuer.mint({ sub: 'alice', groups: ['sre'], scope: 'mcp' }, { expiresIn }), modern);
  try {
    const call = client.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql } }, { timeout: 60_000 });
    const approvalId = await pendingFor(sql);
    // Approved only once the caller's token has expired (exp has whole-second precision).
    await new Promise((r) => setTimeout(r, Math.max(0, minted + (expiresIn + 1.5) * 1000 - Date.now())));
    await w.rt.approvals!.approve(approvalId, dana);
    const r = await call;
    const text = textOf(r);
    assert.equal(r.isError, true, text);
    assert.match(text, /WARDEN_UNAUTHENTICATED/, text);
    assert.match(text, /expired while the call waited for approval/, text);
    assert.equal(await total(id), before, 'the UPDATE did not run');
    const view = await w.rt.approvals!.get(approvalId);
    assert.equal(view!.state, 'approved', 'the approval was not used');
    const rec = w.calls().at(-1)!;
    assert.equal(rec.error_code, 'WARDEN_UNAUTHENTICATED', JSON.stringify(rec));
  } finally {
    await client.close().catch(() => undefined);
  }
  // The approval stays usable: the same call with a fresh token runs on it, once.
  const fresh = await connect(await w.token('alice', ['sre']), modern);
  try {
    const r = await fresh.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql } });
    assert.equal(r.isError ?? false, false, textOf(r));
    assert.equal(await total(id), '999');
  } finally {
    await fresh.close().catch(() => undefined);
  }
}

test('a session (2025-11-25) call approved after its token expired is refused, runs nothing, and leaves the approval unused', async () => {
  await refusedAfterExpiry(false, 3);
});

test('a per-request (2026-07-28) call approved after its token expired is refused, runs nothing, and leaves the approval unused', async () => {
  await refusedAfterExpiry(true, 4);
});

test('a call approved while its token holds runs', async () => {
  const sql = 'UPDATE orders SET total = 555 WHERE id = 5';
  const client = await connect(await w.token('alice', ['sre']), false);
  try {
    const call = client.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql } }, { timeout: 60_000 });
    await w.rt.approvals!.approve(await pendingFor(sql), dana);
    const r = await call;
    assert.equal(r.isError ?? false, false, textOf(r));
    assert.equal(await total(5), '555');
  } finally {
    await client.close().catch(() => undefined);
  }
});

test('a confirmation (confirm: requester) answered after the token expired runs nothing', async () => {
  const expiresIn = 2;
  const minted = Date.now();
  const transport = new StreamableHTTPClientTransport(new URL(`${w.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${await w.issuer.mint({ sub: 'alice', groups: ['sre'], scope: 'mcp' }, { expiresIn })}` } },
  });
  const client = new Client({ name: 'slow-confirmer', version: '1' }, { capabilities: { elicitation: { form: {} } } });
  let asked = 0;
  client.setRequestHandler('elicitation/create', async () => {
    asked++;
    await new Promise((r) => setTimeout(r, Math.max(0, minted + (expiresIn + 1.5) * 1000 - Date.now())));
    return { action: 'accept', content: { confirm: true } };
  });
  await client.connect(transport);
  try {
    const r = await client.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql: "UPDATE users SET name = 'Mallory' WHERE id = 1" } }, { timeout: 60_000 });
    const text = textOf(r);
    assert.equal(asked, 1);
    assert.equal(r.isError, true, text);
    assert.match(text, /WARDEN_UNAUTHENTICATED/, text);
    assert.match(text, /expired while the call waited for approval/, text);
    assert.equal(String((await w.db.query('SELECT name FROM users WHERE id = 1')).rows[0]!.name), 'Alice', 'the UPDATE did not run');
    const used = (await w.rt.approvals!.list({ state: 'used' })).filter((a) => a.approval_rule === 'confirmed-update');
    assert.equal(used.length, 0, 'the confirmation was not used');
  } finally {
    await client.close().catch(() => undefined);
  }
});

/**
 * The wait itself ends when the token expires (exp, as the session's own expiry check reads it:
 * no leeway), long before the rule's 30 s wait: WARDEN_UNAUTHENTICATED, recorded, nothing ran,
 * and the request stays pending, so a reviewer can still approve it and the same call with a
 * fresh token runs on it.
 */
async function waitEndsAtExpiry(modern: boolean, id: number): Promise<void> {
  const sql = `UPDATE orders SET total = 777 WHERE id = ${id}`;
  const before = await total(id);
  const expiresIn = 3;
  const token = await w.issuer.mint({ sub: 'alice', groups: ['sre'], scope: 'mcp' }, { expiresIn });
  const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
  const client = await connect(token, modern);
  let approvalId: string;
  try {
    const call = client.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql } }, { timeout: 60_000 });
    approvalId = await pendingFor(sql);
    const r = await call;
    const ended = Date.now();
    const text = textOf(r);
    assert.equal(r.isError, true, text);
    assert.match(text, /WARDEN_UNAUTHENTICATED/, text);
    assert.match(text, /expired while the call waited for approval/, text);
    assert.ok(ended >= exp * 1000, `the wait ended before the token's exp (${ended - exp * 1000} ms)`);
    assert.ok(ended < exp * 1000 + 3000, `the wait went on ${ended - exp * 1000} ms past the token's exp`);
    assert.equal(await total(id), before, 'the UPDATE did not run');
    const rec = w.calls().at(-1)!;
    assert.equal(rec.error_code, 'WARDEN_UNAUTHENTICATED', JSON.stringify(rec));
    assert.equal((await w.rt.approvals!.get(approvalId))!.state, 'pending', 'the request stays open for a retry');
  } finally {
    await client.close().catch(() => undefined);
  }
  await w.rt.approvals!.approve(approvalId, dana);
  const fresh = await connect(await w.token('alice', ['sre']), modern);
  try {
    const r = await fresh.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql } });
    assert.equal(r.isError ?? false, false, textOf(r));
    assert.equal(await total(id), '777');
  } finally {
    await fresh.close().catch(() => undefined);
  }
}

test('a session (2025-11-25) call waiting for approval ends at its token\'s expiry with WARDEN_UNAUTHENTICATED; the request stays for a retry', async () => {
  await waitEndsAtExpiry(false, 7);
});

test('a per-request (2026-07-28) call waiting for approval ends at its token\'s expiry with WARDEN_UNAUTHENTICATED; the request stays for a retry', async () => {
  await waitEndsAtExpiry(true, 8);
});
