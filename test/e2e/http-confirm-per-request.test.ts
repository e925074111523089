/**
 * `confirm: requester` over real HTTP from a 2026-07-28 (per-request, stateless) client: that
 * protocol has no server-to-client requests, so the requester cannot be asked. The call is
 * refused plainly, with its own stable code (WARDEN_CONFIRMATION_UNAVAILABLE) and what to do
 * instead, not as a confirmation request that "failed"; a 2025-11-25 session is still asked.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';

const POLICY = `
rules:
  - id: slow-confirm
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.slow] }
    approval: { confirm: requester }
`;

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
});
after(() => w?.stop());

/** A client that declares form elicitation and answers yes to every confirmation. */
async function connect(token: string, modern: boolean): Promise<{ client: Client; asked: () => number }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${w.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'confirming-agent', version: '1' }, { capabilities: { elicitation: { form: {} } }, ...(modern ? { versionNegotiation: { mode: 'auto' as const } } : {}) });
  let n = 0;
  client.setRequestHandler('elicitation/create', async () => (n++, { action: 'accept', content: { confirm: true } }));
  await client.connect(transport);
  return { client, asked: () => n };
}

const select = { name: 'query_database', arguments: { connection: 'analytics', sql: 'SELECT id FROM slow' } };

test('a per-request (2026-07-28) client is told it cannot be asked for confirmation, with a stable code and what to do instead', async () => {
  const { client, asked } = await connect(await w.token('alice', ['sre']), true);
  try {
    assert.equal(client.getProtocolEra(), 'modern');
    const r = await client.callTool(select);
    assert.equal(r.isError, true);
    const text = (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n');
    assert.match(text, /WARDEN_CONFIRMATION_UNAVAILABLE/, text);
    assert.doesNotMatch(text, /failed/, text);
    assert.match(text, /without a session|cannot receive/, text);
    assert.match(text, /2025-11-25/, text);
    assert.match(text, /reviewer/, text);
    const structured = r.structuredContent as { error?: { code?: string } } | undefined;
    if (structured?.error) assert.equal(structured.error.code, 'WARDEN_CONFIRMATION_UNAVAILABLE');
    assert.equal(asked(), 0, 'no prompt was attempted');
  } finally {
    await client.close().catch(() => undefined);
  }
});

test('a 2025-11-25 session is asked, and its yes runs the call', async () => {
  const { client, asked } = await connect(await w.token('alice', ['sre']), false);
  try {
    const r = await client.callTool(select);
    const text = (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n');
    assert.equal(r.isError ?? false, false, text);
    assert.equal(asked(), 1);
  } finally {
    await client.close().catch(() => undefined);
  }
});
