/**
 * Red team, over real HTTP on a real store: an agent's huge calls cannot make the approvals page
 * huge. The card draws the whole bound call, and a call of 1 MiB of `"` (the MCP body's default
 * cap) became some 3.5 million characters of page (`\"` then `&quot;`): ten such requests made
 * every view of the queue, and every live-notice refresh of it, about 35 MB, and twenty
 * identities' made it longer than a JavaScript string can be (a 500 for every reviewer). A call
 * longer than a card holds is now drawn on its own page (`/ui/approvals?id=ID`), whole, with the
 * Approve and Deny buttons; the queue card says how long it is and links there, with no buttons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CARD_CALL_CHARS, QUEUE_PAGE_CHARS } from '../../src/ui/approvals-page.js';
import { approvalRequest } from '../recorder/fixtures.js';
import { startReviewUi } from './fixtures.js';

const FAR = '2099-01-01T00:00:00.000Z';
const at = (i: number) => new Date(Date.UTC(2026, 10, 28, 10) + i * 1000).toISOString();
const call = (sql: string) => JSON.stringify({ tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql } });
const HUGE = `UPDATE orders SET note = '${'"'.repeat(500_000)}' WHERE id = 7 OR TAILMARK = 1`;


test('huge calls: the queue stays small, each huge call is reviewed and decided whole on its own page', { timeout: 60_000 }, async (t) => {
  const { store, approvals, ui } = await startReviewUi(t);
  // alice's ordinary request (the neighbour: drawn and decided on the queue as before), then the agent's ten huge ones.
  await store.approvals.create(approvalRequest('alice-1', at(0), { requester: 'alice', expiresAt: FAR, callHash: 'h-alice', canonicalCall: call('UPDATE orders SET total = 1 WHERE id = 3') }));
  // bob's long but legitimate script (50,000 characters): still drawn whole on the queue card, with its buttons.
  await store.approvals.create(approvalRequest('bob-1', at(0), { requester: 'bob', expiresAt: FAR, callHash: 'h-bob', canonicalCall: call(`UPDATE t SET v = '${'y'.repeat(50_000)}' WHERE BOBTAIL = 1`) }));
  for (let i = 1; i <= 10; i++) await store.approvals.create(approvalRequest(`huge-${i}`, at(i), { requester: 'agent-x', expiresAt: FAR, callHash: `h-${i}`, canonicalCall: call(`${HUGE} /* ${i} */`) }));
  const origin = new URL(ui.url).origin;
  const cookie = ((await fetch(ui.loginUrl, { redirect: 'manual' })).headers.get('set-cookie') ?? '').split(';')[0]!;
  const get = async (path: string) => {
    const r = await fetch(`${origin}${path}`, { headers: { cookie } });
    assert.equal(r.status, 200, path);
    return r.text();
  };

  for (const path of ['/ui/approvals', '/ui/approvals?fragment=1', '/ui/approvals?requester=agent-x']) {
    const page = await get(path);
    assert.ok(page.length < 1_000_000, `${path}: ${page.length} characters for 12 cards`);
    if (!path.includes('requester')) assert.match(page, /id="approval-alice-1"[\s\S]*WHERE id = 3[\s\S]*\/ui\/approvals\/alice-1\/approve/, `${path}: alice's ordinary call is drawn with its buttons`);
    if (!path.includes('requester')) {
      const bob = page.indexOf('id="approval-bob-1"');
      const tail = page.indexOf(`${'y'.repeat(50_000)}&#39; WHERE BOBTAIL = 1`, bob);
      assert.ok(bob >= 0 && tail > bob && page.indexOf('/ui/approvals/bob-1/approve', tail) > tail, `${path}: bob's 50,000-character call is drawn whole with its buttons`);
    }
    assert.doesNotMatch(page, /TAILMARK/, `${path}: no huge call is drawn on the queue`);
    assert.doesNotMatch(page, /\/ui\/approvals\/huge-\d+\/(approve|deny)/, `${path}: no button decides a call the card does not show`);
    assert.match(page, /id="approval-huge-1"[\s\S]*too long to draw here[\s\S]*href="\/ui\/approvals\?id=huge-1"/, `${path}: the card says so and links to the call's own page`);
  }

  // Its own page: the whole call and the buttons, bound to this request.
  const one = await get('/ui/approvals?id=huge-3');
  assert.ok(one.includes(`&#39;${'\\&quot;'.repeat(500_000)}&#39; WHERE id = 7 OR TAILMARK = 1 /* 3 */`), 'the whole call, nothing cut');
  assert.match(one, /action="\/ui\/approvals\/huge-3\/approve"/);
  assert.doesNotMatch(one, /approval-huge-[1245]"|approval-alice-1"|approval-bob-1"/, 'only that request');
  assert.ok(one.length > CARD_CALL_CHARS);
  const csrf = /name="csrf" value="([^"]+)"/.exec(one)?.[1] ?? '';
  const post = await fetch(`${origin}/ui/approvals/huge-3/approve`, { method: 'POST', headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}`, redirect: 'manual' });
  assert.equal(post.status, 303);
  assert.equal((await approvals.get('huge-3'))?.state, 'approved');
  // Once decided it is no longer pending: its page says so and offers nothing to decide.
  const done = await get('/ui/approvals?id=huge-3');
  assert.match(done, /huge-3 is not pending in the queue you review/);
  assert.doesNotMatch(done, /\/approve"/);
  // An id that is no request, or a malformed one: a page that says so, or a 400.
  assert.match(await get('/ui/approvals?id=nope'), /nope is not pending in the queue you review/);
  assert.equal((await fetch(`${origin}/ui/approvals?id=${'x'.repeat(300)}`, { headers: { cookie } })).status, 400);
});

test('calls each just under a card\'s length: the page draws them, oldest requester first, up to its budget; the rest are held back with a link', { timeout: 60_000 }, async (t) => {
  const { store, approvals, ui } = await startReviewUi(t);
  // Twenty requesters, one request each of ~60,000 characters (under CARD_CALL_CHARS), the oldest first.
  const big = (i: number) => call(`UPDATE t SET v = '${'z'.repeat(CARD_CALL_CHARS - 4_000)}' WHERE ROW${i}END = 1`);
  for (let i = 0; i < 20; i++) await store.approvals.create(approvalRequest(`near-${i}`, at(i), { requester: `agent-${String(i).padStart(2, '0')}`, expiresAt: FAR, callHash: `h-near-${i}`, canonicalCall: big(i) }));
  const origin = new URL(ui.url).origin;
  const cookie = ((await fetch(ui.loginUrl, { redirect: 'manual' })).headers.get('set-cookie') ?? '').split(';')[0]!;
  const page = await (await fetch(`${origin}/ui/approvals`, { headers: { cookie } })).text();
  const drawn = [...Array(20).keys()].filter((i) => page.includes(`WHERE ROW${i}END = 1`));
  const perCard = CARD_CALL_CHARS - 4_000;
  assert.ok(drawn.length >= 1 && drawn.length <= Math.ceil(QUEUE_PAGE_CHARS / perCard), `cards drawn: ${drawn.length}`);
  assert.deepEqual(drawn, [...Array(drawn.length).keys()], 'the oldest requesters\' cards are the ones drawn');
  assert.ok(page.length < 2 * QUEUE_PAGE_CHARS, `page of ${page.length} characters`);
  const held = drawn.length;
  assert.match(page, new RegExp(`id="approval-near-${held}"[\\s\\S]*more than this page draws[\\s\\S]*href="/ui/approvals\\?id=near-${held}"`), 'the first card past the budget links to its own page');
  assert.doesNotMatch(page, new RegExp(`/ui/approvals/near-${held}/approve`), 'and has no buttons');
  // On its own page it is drawn whole, with its buttons.
  const own = await (await fetch(`${origin}/ui/approvals?id=near-${held}`, { headers: { cookie } })).text();
  assert.ok(own.includes(`WHERE ROW${held}END = 1`));
  assert.match(own, new RegExp(`action="/ui/approvals/near-${held}/approve"`));
});
