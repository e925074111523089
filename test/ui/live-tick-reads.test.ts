/**
 * Red team, over real HTTP on a real store: an agent's pending requests cannot make the live
 * feed's tick read their calls. While any reviewer page was open, the tick (every second) listed
 * the newest 500 pending requests as full views: every row's stored call (up to the MCP body
 * cap, 1 MiB by default, each) read and parsed, and each view's combination looked up; an
 * agent with a few hundred large pending requests had the server read and parse hundreds of MB a
 * second for as long as a reviewer kept a tab open. The tick now reads the pending ids alone.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openPgStore, openSqliteStore, type ApprovalStore } from '../../src/recorder/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { mountUi } from '../../src/cli/ui-serve.js';
import { createUiHandler, type UiStore } from '../../src/ui/index.js';
import { hostPolicy, originAllowed } from '../../src/server/http-origins.js';
import { approvalRequest } from '../recorder/fixtures.js';

const FAR = '2099-01-01T00:00:00.000Z';
const at = (i: number) => new Date(Date.UTC(2026, 10, 28, 10) + i * 1000).toISOString();
const call = (i: number) => JSON.stringify({ tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: `UPDATE t SET v = '${'x'.repeat(100_000)}' WHERE id = ${i}` } });

test('the live tick reads pending ids, never the pending requests\' calls; a new request still reaches open pages', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tick-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  // The real tables, with the rows every list() read counted (and the call text in them).
  let listedChars = 0;
  const tables = new Proxy(store.approvals, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== 'function') return v;
      if (key === 'list') {
        return async (...a: Parameters<ApprovalStore['list']>) => {
          const rows = await target.list(...a);
          for (const r of rows) listedChars += r.canonicalCall.length;
          return rows;
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
  const approvals = createApprovalService(tables);
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const hosts = hostPolicy('127.0.0.1', port, { allowed_hosts: [], allowed_origins: [] }, '');
  const ui = createUiHandler({ store: store as unknown as UiStore, approvals, baseUrl: origin, log: () => undefined, allowsOrigin: (o) => originAllowed(hosts, o), pollMs: 20 });
  mountUi(server, ui, hosts);
  const abort = new AbortController();
  t.after(async () => {
    abort.abort();
    ui.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 1; i <= 40; i++) await store.approvals.create(approvalRequest(`big-${i}`, at(i), { requester: 'agent-x', expiresAt: FAR, callHash: `h-${i}`, canonicalCall: call(i) }));
  const cookie = ((await fetch(ui.loginUrl(), { redirect: 'manual' })).headers.get('set-cookie') ?? '').split(';')[0]!;

  // A reviewer's open page: its live stream.
  const stream = await fetch(`${origin}/ui/events`, { headers: { cookie }, signal: abort.signal });
  assert.equal(stream.status, 200);
  const reader = stream.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  const until = async (re: RegExp) => {
    while (!re.test(seen)) {
      const { value, done } = await reader.read();
      assert.ok(!done, `the stream ended before ${re}: ${seen}`);
      seen += decoder.decode(value);
    }
  };
  await until(/retry: 2000/);
  // A new pending request (a store write, as the gate's) and then an expiry-free decision: each reaches the page.
  await store.approvals.create(approvalRequest('big-41', at(41), { requester: 'agent-x', expiresAt: FAR, callHash: 'h-41', canonicalCall: call(41) }));
  await until(/event: change/);
  seen = '';
  await approvals.deny('big-1', { subject: 'rita', groups: ['dba'], claims: {}, authMethod: 'local' });
  await until(/event: change/);
  assert.equal(listedChars, 0, `the tick read ${listedChars} characters of stored calls`);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

// Both stores: the newest pending ids, ids only; decided requests left out, and (asOf, a read-only
// reader's clock) requests past their expiry too.
test('pendingIds on SQLite and PostgreSQL: newest first, pending only, expired as of asOf left out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-pending-ids-'));
  const sqlite = openSqliteStore(join(dir, 'w.db'));
  const db = await createTestDatabase({ prefix: 'pendids' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const pg = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  t.after(async () => {
    await sqlite.close();
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const store of [sqlite, pg]) {
    await store.approvals.create(approvalRequest('p-1', at(1), { expiresAt: FAR }));
    await store.approvals.create(approvalRequest('p-2', at(2), { expiresAt: '2098-01-01T00:00:00.000Z' }));
    await store.approvals.create(approvalRequest('p-3', at(3), { expiresAt: FAR }));
    await store.approvals.create(approvalRequest('p-4', at(4), { expiresAt: FAR }));
    await createApprovalService(store.approvals).deny('p-3', { subject: 'rita', groups: ['dba'], claims: {}, authMethod: 'local' });
    assert.deepEqual(await store.approvals.pendingIds!(10), ['p-4', 'p-2', 'p-1']);
    assert.deepEqual(await store.approvals.pendingIds!(2), ['p-4', 'p-2']);
    assert.deepEqual(await store.approvals.pendingIds!(10, '2098-06-01T00:00:00.000Z'), ['p-4', 'p-1'], 'p-2 is past its expiry then');
  }
});
