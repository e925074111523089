/**
 * The requester's own confirmation (`confirm: requester`, MCP elicitation) must not outlive the
 * caller's token: the question used to stay open until the SDK's request timeout, an answer after
 * the token's exp only then refused. Real OIDC issuer, real PostgreSQL, a real Streamable HTTP
 * client that supports form elicitation and never answers, on a token that lives 3 seconds. At
 * the token's exp the question is withdrawn, the call ends with
 * WARDEN_UNAUTHENTICATED, recorded, nothing ran, and the unanswered request is voided.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';

const POLICY = `
rules:
  - id: confirmed-update
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.users] }
    approval: { confirm: requester, wait: 5m }
  - id: confirmed-reviewed-update
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.orders] }
    approval: { confirm: requester, reviewers: { groups: [dba] }, wait: 5m }
`;

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
  await w.db.query(`GRANT UPDATE ON orders, users TO ${w.db.role}`);
});
after(() => w?.stop());

const textOf = (r: { content?: unknown }) => ((r.content ?? []) as { text?: string }[]).map((c) => c.text ?? '').join('\n');

async function unansweredUntilExpiry(sql: string, check: () => Promise<string>, before: string, rule: string): Promise<void> {
  const expiresIn = 3;
  const token = await w.issuer.mint({ sub: 'alice', groups: ['sre'], scope: 'mcp' }, { expiresIn });
  const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
  const transport = new StreamableHTTPClientTransport(new URL(`${w.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'silent-confirmer', version: '1' }, { capabilities: { elicitation: { form: {} } } });
  let asked = 0;
  // Never answers.
  client.setRequestHandler('elicitation/create', () => {
    asked++;
    return new Promise<never>(() => undefined);
  });
  await client.connect(transport);
  try {
    // Well inside the SDK's 60 s default request timeout and the rule's 5 min wait.
    const r = await client.callTool({ name: 'query_database', arguments: { connection: 'analytics', sql } }, { timeout: 15_000 });
    const ended = Date.now();
    const text = textOf(r);
    assert.equal(asked, 1, 'the user was asked once');
    assert.equal(r.isError, true, text);
    assert.match(text, /WARDEN_UNAUTHENTICATED/, text);
    assert.match(text, /token expired while the call waited for approval \(your confirmation, unanswered\); nothing ran/, text);
    assert.ok(ended >= exp * 1000, `the wait ended before the token's exp (${ended - exp * 1000} ms)`);
    assert.ok(ended < exp * 1000 + 3000, `the wait went on ${ended - exp * 1000} ms past the token's exp`);
    assert.equal(await check(), before, 'the UPDATE did not run');
    const rec = w.calls().at(-1)!;
    assert.equal(rec.error_code, 'WARDEN_UNAUTHENTICATED', JSON.stringify(rec));
    // The unanswered confirmation is voided with that reason: no decision was recorded for the
    // user, and it can never be used.
    const mine = (await w.rt.approvals!.list({})).filter((a) => a.approval_rule === rule && JSON.stringify(a).includes(sql));
    assert.equal(mine.length, 1, `one request, the confirmation: ${JSON.stringify(mine)}`);
    assert.deepEqual(mine[0]!.reviewers, { subjects: ['alice'] }, JSON.stringify(mine[0]));
    assert.equal(mine[0]!.state, 'voided', JSON.stringify(mine[0]));
    assert.deepEqual(mine[0]!.decisions, [], 'nobody answered');
    assert.equal(mine[0]!.voided?.code, 'WARDEN_UNAUTHENTICATED', JSON.stringify(mine[0]));
  } finally {
    await client.close().catch(() => undefined);
  }
}

test('a confirmation nobody answers ends at the token\'s expiry with WARDEN_UNAUTHENTICATED; nothing ran, the request is voided', async () => {
  const name = async () => String((await w.db.query('SELECT name FROM users WHERE id = 2')).rows[0]!.name);
  await unansweredUntilExpiry("UPDATE users SET name = 'Mallory' WHERE id = 2", name, await name(), 'confirmed-update');
});

test('with reviewers to ask too, an unanswered confirmation ends at the token\'s expiry, before any reviewer is asked', async () => {
  const total = async () => String((await w.db.query('SELECT total FROM orders WHERE id = 2')).rows[0]!.total);
  // The helper finds one request for the rule and call: the confirmation, no reviewer request.
  await unansweredUntilExpiry('UPDATE orders SET total = 1 WHERE id = 2', total, await total(), 'confirmed-reviewed-update');
});
