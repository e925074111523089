/**
 * The reviewer queue's walk over requesters is bounded (approval-queue-sql.ts,
 * MAX_REQUESTERS_WALKED): a store answering for more requesters than that is asked about at most
 * that many, and the queue says its count is a lower bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRST_HEAD, MAX_REQUESTERS_WALKED, NEXT_AUTH, NEXT_REQUESTER, readPendingQueue } from '../../src/recorder/approval-queue-sql.js';

/** A fake store of `n` requesters (one identity source each, one pending request each, the later-named older). */
function store(n: number) {
  const name = (i: number) => `agent-${String(i).padStart(6, '0')}`;
  let seeks = 0;
  const one = async (sql: string, params: unknown[]): Promise<Record<string, unknown> | undefined> => {
    if (sql.startsWith('SELECT count(*)')) return { n: params.length ? 1 : n };
    seeks++;
    const row = (i: number) => (i < n ? { requester: name(i), requester_auth: 'oidc', seq: n - i } : undefined);
    if (sql === FIRST_HEAD(false)) return row(0);
    if (sql === NEXT_AUTH) return undefined;
    if (sql === NEXT_REQUESTER) return row(Number(String(params[0]).slice(6)) + 1);
    throw new Error(`unexpected query ${sql}`);
  };
  const all = async (_sql: string, params: unknown[]) => [{ id: `req-${String(params[0])}` }];
  return { one, all, seeks: () => seeks, name };
}

test('a page view walks at most MAX_REQUESTERS_WALKED requesters and says the count is a lower bound', async () => {
  const s = store(MAX_REQUESTERS_WALKED + 50);
  const q = await readPendingQueue(s.one, s.all, 10, 20);
  assert.equal(q.requesters, MAX_REQUESTERS_WALKED);
  assert.equal(q.requestersCapped, true);
  assert.equal(q.moreRequesters, true);
  assert.equal(q.groups.length, 20);
  // Oldest first among the walked: the last walked name holds the oldest request of those.
  assert.equal(q.groups[0]!.requester, s.name(MAX_REQUESTERS_WALKED - 1));
  assert.ok(s.seeks() <= 2 * MAX_REQUESTERS_WALKED + 1, `seeks ${s.seeks()}`);
});

test('below the bound every requester is walked and ordered by its oldest request', async () => {
  const s = store(30);
  const q = await readPendingQueue(s.one, s.all, 10, 20);
  assert.equal(q.requesters, 30);
  assert.equal(q.requestersCapped, undefined);
  assert.equal(q.moreRequesters, true);
  assert.deepEqual(q.groups.slice(0, 2).map((g) => g.requester), [s.name(29), s.name(28)]);
});
