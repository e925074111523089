/**
 * The reviewers' queue shows the requesters whose oldest pending request is oldest, not the first
 * 20 by name, and a reviewer can narrow it to one requester (`/ui/approvals?requester=NAME`), over
 * real HTTP on a real store. Before, 20 agent identities named before another requester
 * ("aaa-01".."aaa-20") hid that requester's older request from the queue page, and the page had
 * no way to ask for one requester (only the CLI's `approvals list --requester`).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPgStore, type ApprovalStore } from '../../src/recorder/index.js';
import { approvalRequest } from '../recorder/fixtures.js';
import { startReviewUi } from './fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';

const FAR = '2099-01-01T00:00:00.000Z';
const at = (i: number) => new Date(Date.UTC(2026, 10, 28, 10) + i * 1000).toISOString();
const CALL = JSON.stringify({ tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'UPDATE orders SET total = 1' } });
const name = (i: number) => `aaa-${String(i).padStart(2, '0')}`;

/** zed's urgent request first, then one from each of 20 identities named before it, then one from "zz-late". */
async function crowd(tables: ApprovalStore): Promise<void> {
  await tables.create(approvalRequest('zed-1', at(0), { requester: 'zed', expiresAt: FAR, canonicalCall: CALL }));
  for (let i = 1; i <= 20; i++) await tables.create(approvalRequest(`crowd-${i}`, at(i), { requester: name(i), expiresAt: FAR, canonicalCall: CALL }));
  await tables.create(approvalRequest('zed-2', at(30), { requester: 'zed', expiresAt: FAR, canonicalCall: CALL }));
}

async function ui(t: { after: (fn: () => Promise<void>) => void }) {
  const { store, approvals, ui: server } = await startReviewUi(t);
  await crowd(store.approvals);
  const cookie = ((await fetch(server.loginUrl, { redirect: 'manual' })).headers.get('set-cookie') ?? '').split(';')[0]!;
  const get = async (q: string) => {
    const r = await fetch(`${new URL(server.url).origin}/ui/approvals${q}`, { headers: { cookie } });
    return { status: r.status, text: await r.text() };
  };
  return { store, get };
}

test('20 identities named before a requester cannot hide its older request; the page says how many requesters are cut', async (t) => {
  const { get } = await ui(t);
  const page = (await get('')).text;
  assert.match(page, /id="approval-zed-1"/, 'zed\'s oldest request is on the queue');
  assert.match(page, /22 pending requests from 21 requesters/);
  assert.match(page, /1 requester is not shown/);
  assert.match(page, /id="approval-crowd-19"/);
  assert.doesNotMatch(page, /id="approval-crowd-20"/, 'the requester whose oldest request is newest is the one cut');
  assert.ok(page.indexOf('approval-zed-1') < page.indexOf('approval-crowd-1"'), 'oldest first');
});

test('the queue page narrows to one requester with ?requester= (escaped, bounded, 400 on bad input)', async (t) => {
  const { get } = await ui(t);
  const one = await get('?requester=zed');
  assert.equal(one.status, 200);
  assert.match(one.text, /id="approval-zed-1"/);
  assert.match(one.text, /id="approval-zed-2"/);
  assert.doesNotMatch(one.text, /id="approval-crowd-/);
  assert.match(one.text, /2 pending requests from zed/);
  // The live fragment keeps the filter.
  assert.match(one.text, /data-live="\/ui\/approvals\?fragment=1&amp;requester=zed"/);
  const frag = await get('?fragment=1&requester=aaa-20');
  assert.match(frag.text, /id="approval-crowd-20"/);
  assert.doesNotMatch(frag.text, /approval-zed-1/);
  const none = await get(`?requester=${encodeURIComponent('<b>x</b>')}`);
  assert.equal(none.status, 200);
  assert.match(none.text, /No pending approvals from &lt;b&gt;x&lt;\/b&gt;/);
  assert.doesNotMatch(none.text, /<b>x<\/b>/);
  const long = await get(`?requester=${'a'.repeat(257)}`);
  assert.equal(long.status, 400);
  assert.match(long.text, /requester/);
  const ctl = await get('?requester=a%00b');
  assert.equal(ctl.status, 400);
  // Empty: the whole queue (the filter form's blank submit).
  assert.match((await get('?requester=')).text, /22 pending requests from 21 requesters/);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: the same queue order, cut count and requester filter', async (t) => {
  const db = await createTestDatabase({ prefix: 'apqorder' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  t.after(() => s.close());
  await crowd(s.approvals);
  await s.approvals.create(approvalRequest('zed-ldap', at(40), { requester: 'zed', requesterAuth: 'ldap', expiresAt: FAR, canonicalCall: CALL }));
  const q = await s.approvals.pendingQueue(10, 20);
  assert.deepEqual([q.total, q.requesters, q.moreRequesters, q.groups.length], [23, 22, true, 20]);
  assert.deepEqual(q.groups[0]!.rows.map((r) => r.id), ['zed-1', 'zed-2']);
  assert.deepEqual(q.groups.slice(1).map((g) => g.requester), Array.from({ length: 19 }, (_, i) => name(i + 1)));
  const only = await s.approvals.pendingQueue(10, 20, 'zed');
  assert.deepEqual(only.groups.map((g) => [g.requesterAuth, g.count]), [['oidc', 2], ['ldap', 1]]);
  assert.equal(only.requesters, 2);
});
