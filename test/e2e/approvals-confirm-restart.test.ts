/**
 * End to end: requester confirmation through MCP elicitation (accepted, declined, a client that
 * cannot elicit), and a server restarted while a request is pending (state survives; the repeat
 * call after approval runs once).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';
import { approvalsCli, shopConfig } from '../approvals/support.js';

const CONFIG = shopConfig();

const POLICY = `
rules:
  - id: notes-confirm
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [insert], write: [public.notes] }
    approval: { confirm: requester }
  - id: orders-fix
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, wait: 1s }
`;

let db: TestDatabase;
let dir: WardenDir;

type Answer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, unknown> };

/** A client over stdio; with `answer`, it declares elicitation and answers with it. */
async function connect(answer?: (message: string) => Answer) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [WARDEN_BIN, 'serve', '--config', dir.configPath],
    env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', TEST_DATABASE_URL: db.url },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'approvals-test', version: '1.0.0' }, answer ? { capabilities: { elicitation: { form: {} } } } : {});
  const asked: string[] = [];
  if (answer) {
    client.setRequestHandler('elicitation/create', async (req) => {
      const p = req.params as { message: string; mode?: string };
      asked.push(p.message);
      return answer(p.message) as never;
    });
  }
  await client.connect(transport);
  const call = async (sql: string) => {
    const r = await client.callTool({ name: 'query_database', arguments: { connection: 'shop', sql } }, { timeout: 30_000 });
    return {
      isError: r.isError === true,
      text: (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n'),
      error: (r.structuredContent as { error?: { code: string; approval_id?: string } } | undefined)?.error,
    };
  };
  return { client, asked, call, close: () => client.close() };
}

const notes = async () => (await db.query<{ body: string }>('SELECT body FROM notes ORDER BY id')).rows.map((r) => r.body);

before(async () => {
  db = await createTestDatabase({ prefix: 'apprc' });
  await db.query(`CREATE TABLE notes (id serial PRIMARY KEY, body text); CREATE TABLE orders (id int PRIMARY KEY, total int);
    INSERT INTO orders VALUES (1, 100);`);
  for (const t of ['notes', 'orders']) await db.query(`ALTER TABLE ${t} OWNER TO ${db.role}`);
  await db.query(`GRANT USAGE ON SEQUENCE notes_id_seq TO ${db.role}`);
  dir = writeWardenDir(CONFIG, { 'base.yaml': POLICY });
});

after(async () => {
  await db?.drop();
  dir?.cleanup();
});

describe('requester confirmation through elicitation', () => {
  test('accepted: the form shows the parsed call, and the call runs', async () => {
    const c = await connect(() => ({ action: 'accept', content: { confirm: true } }));
    try {
      const r = await c.call("INSERT INTO notes (body) VALUES ('confirmed')");
      assert.equal(r.isError, false, r.text);
      assert.equal(c.asked.length, 1);
      assert.match(c.asked[0]!, /notes-confirm/);
      assert.match(c.asked[0]!, /sql: INSERT INTO/i, 'the parsed statement is shown');
      assert.deepEqual(await notes(), ['confirmed']);
    } finally {
      await c.close();
    }
  });

  test('declined (or answered no): denied, nothing runs', async () => {
    const declining = await connect(() => ({ action: 'decline' }));
    const saysNo = await connect(() => ({ action: 'accept', content: { confirm: false } }));
    try {
      const r = await declining.call("INSERT INTO notes (body) VALUES ('declined')");
      assert.equal(r.error?.code, 'WARDEN_APPROVAL_DENIED', r.text);
      assert.match(r.text, /declined/);
      const n = await saysNo.call("INSERT INTO notes (body) VALUES ('no')");
      assert.equal(n.error?.code, 'WARDEN_APPROVAL_DENIED', n.text);
      assert.deepEqual(await notes(), ['confirmed']);
    } finally {
      await declining.close();
      await saysNo.close();
    }
  });

  test('a client without elicitation gets a clear denial, never a silent allow', async () => {
    const c = await connect();
    try {
      const r = await c.call("INSERT INTO notes (body) VALUES ('silent')");
      assert.equal(r.isError, true);
      assert.equal(r.error?.code, 'WARDEN_APPROVAL_DENIED');
      assert.match(r.text, /does not support elicitation/);
      assert.deepEqual(await notes(), ['confirmed']);
    } finally {
      await c.close();
    }
  });
});

describe('server restarted while a request is pending', () => {
  test('the request survives; after approval the repeat call runs exactly once', async () => {
    const sql = 'UPDATE orders SET total = total + 1 WHERE id = 1';
    const first = await connect();
    const r = await first.call(sql);
    assert.equal(r.error?.code, 'WARDEN_APPROVAL_PENDING', r.text);
    const id = r.error!.approval_id!;
    await first.close();

    // No server runs now: the reviewer decides against the store alone.
    const ok = await approvalsCli(['approve', id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba', '--json']);
    assert.equal(ok.code, 0, ok.err);
    assert.equal((JSON.parse(ok.out) as { state: string }).state, 'approved');

    const second = await connect();
    try {
      const status = await second.client.callTool({ name: 'approval_status', arguments: { approval_id: id } });
      assert.match(JSON.stringify(status.structuredContent), /"state":"approved"/);
      const run = await second.call(sql);
      assert.equal(run.isError, false, run.text);
      const again = await second.call(sql);
      assert.equal(again.error?.code, 'WARDEN_APPROVAL_PENDING', 'the approval ran its one call');
      const total = (await db.query<{ total: number }>('SELECT total FROM orders WHERE id = 1')).rows[0]!.total;
      assert.equal(total, 101);
      const foreign = await second.client.callTool({ name: 'approval_status', arguments: { approval_id: '00000000-0000-0000-0000-000000000000' } });
      assert.equal(foreign.isError, true);
    } finally {
      await second.close();
    }
  });
});
