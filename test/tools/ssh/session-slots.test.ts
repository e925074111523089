/**
 * SessionSlots without a host: the per-principal share of a connection's sessions
 * (max_sessions_per_principal) and the order in which waiting calls get a freed slot. Ordering
 * is asserted by events (which waiter got the slot), never by timings.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deadlineIn } from '../../../tools/ssh/call-deadline.js';
import { CONFIRM_TRIES, PROBE_AFTER, SessionSlots } from '../../../tools/ssh/session-slots.js';

const LONG = 30_000;
const what = (overShare: boolean) => (overShare ? 'session within this share' : 'free session');

/** Grants in the order they happened, with each grant's release function. */
class Grants {
  readonly order: string[] = [];
  private readonly releases = new Map<string, () => void>();

  constructor(private readonly slots: SessionSlots) {}

  ask(who: string, label: string, ms = LONG, signal?: AbortSignal): Promise<void> {
    return this.slots.acquire(deadlineIn(ms, signal), who, what).then((release) => {
      this.order.push(label);
      this.releases.set(label, release);
    });
  }

  release(label: string): void {
    const r = this.releases.get(label);
    assert.ok(r, `${label} holds a slot`);
    r();
  }
}

/** Let every settled promise run its callbacks. */
const settle = () => new Promise((r) => setImmediate(r));

describe('SessionSlots: a share per principal', () => {
  test('a principal gets at most its share at once, even while other slots are free; others get the rest', async () => {
    const g = new Grants(new SessionSlots(4, 2));
    await g.ask('A', 'a1');
    await g.ask('A', 'a2');
    const a3 = g.ask('A', 'a3');
    await settle();
    assert.deepEqual(g.order, ['a1', 'a2'], 'the third call of A waits although two slots are free');
    await g.ask('B', 'b1');
    await g.ask('B', 'b2');
    assert.deepEqual(g.order, ['a1', 'a2', 'b1', 'b2']);
    g.release('a1');
    await a3;
    assert.deepEqual(g.order, ['a1', 'a2', 'b1', 'b2', 'a3'], 'A’s freed slot goes to A’s waiting call');
  });

  test('a freed slot goes to the waiting principal with the fewest sessions, before the one that queued first', async () => {
    const g = new Grants(new SessionSlots(4, 3));
    for (const l of ['a1', 'a2', 'a3']) await g.ask('A', l);
    await g.ask('B', 'b1');
    const waiting = [g.ask('A', 'a4'), g.ask('C', 'c1')];
    await settle();
    g.release('a1'); // A is below its share again, but C has no session at all
    await settle();
    assert.deepEqual(g.order.slice(4), ['c1']);
    g.release('b1');
    await Promise.all(waiting);
    assert.deepEqual(g.order.slice(4), ['c1', 'a4']);
  });

  test('with one slot, waiting principals take turns (least recently served first), not first come first served', async () => {
    const g = new Grants(new SessionSlots(1, 1));
    await g.ask('A', 'a1');
    const all = [g.ask('A', 'a2'), g.ask('A', 'a3'), g.ask('A', 'a4'), g.ask('B', 'b1'), g.ask('B', 'b2'), g.ask('C', 'c1')];
    await settle();
    for (let i = 0; i < all.length; i++) {
      g.release(g.order.at(-1)!);
      await settle();
    }
    await Promise.all(all);
    assert.deepEqual(g.order, ['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
  });

  test('a waiter that times out or is cancelled leaves the queue, and the next slot goes to the others', async () => {
    const slots = new SessionSlots(1, 1);
    const g = new Grants(slots);
    await g.ask('A', 'a1');
    const timedOut = g.ask('A', 'a2', 50);
    const ac = new AbortController();
    const cancelled = g.ask('B', 'b1', LONG, ac.signal);
    const next = g.ask('C', 'c1');
    await assert.rejects(timedOut, (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_TIMEOUT');
      assert.match(e.message, /no session within this share within/, 'A waits on its own share');
      return true;
    });
    ac.abort();
    await assert.rejects(cancelled, /cancelled/);
    g.release('a1');
    await next;
    assert.deepEqual(g.order, ['a1', 'c1']);
    g.release('c1');
    assert.equal(slots.principals(), 0, 'no state is kept for principals with no session and no waiter');
  });

  test('a call waiting on busy slots of others is told so, not that its share is used', async () => {
    const g = new Grants(new SessionSlots(2, 1));
    await g.ask('A', 'a1');
    await g.ask('B', 'b1');
    await assert.rejects(g.ask('C', 'c1', 50), (e: Error) => {
      assert.match(e.message, /no free session within/);
      return true;
    });
  });

  test("a host's lower limit (setLimit): slots out stay out, no new grant until under it, the share shrinks with it; a raise serves waiters", async () => {
    const slots = new SessionSlots(6, 4);
    const g = new Grants(slots);
    for (const l of ['a1', 'a2', 'b1']) await g.ask(l[0]!.toUpperCase(), l);
    slots.setLimit(2);
    assert.equal(slots.limit, 2);
    const b2 = g.ask('B', 'b2');
    const c1 = g.ask('C', 'c1');
    await settle();
    g.release('a1');
    await settle();
    assert.deepEqual(g.order, ['a1', 'a2', 'b1'], 'three out, limit two: a release grants nothing yet');
    g.release('a2');
    await c1;
    assert.deepEqual(g.order, ['a1', 'a2', 'b1', 'c1'], 'under the limit: C (no session) before B (one)');
    slots.setLimit(99);
    assert.equal(slots.limit, 6, 'never above max_sessions');
    await b2;
    assert.deepEqual(g.order, ['a1', 'a2', 'b1', 'c1', 'b2']);
  });

  test('a learnt limit is tried one higher after PROBE_AFTER sessions accepted at it with calls queued; a refused try goes back and waits twice as long; an accepted one holds', async () => {
    const slots = new SessionSlots(4, 4);
    const g = new Grants(slots);
    slots.setLimit(2);
    await g.ask('A', 'a1');
    await g.ask('A', 'a2');
    const a3 = g.ask('A', 'a3');
    await settle();
    // Accepted at the limit with nobody queued would not count; here a3 waits.
    for (let i = 1; i < PROBE_AFTER; i++) slots.accepted(2);
    assert.equal(slots.limit, 2);
    assert.equal(slots.probing, false);
    slots.accepted(1); // below the limit: not a sign of more demand than the limit
    assert.equal(slots.limit, 2);
    slots.accepted(2);
    assert.equal(slots.limit, 3, 'one more tried');
    assert.equal(slots.probing, true);
    assert.equal(slots.refusesTry(1), false, 'fewer open than the old limit: a race, not the try');
    assert.equal(slots.refusesTry(2), true);
    await a3; // the try's slot went to the waiter
    assert.equal(slots.refusedAt(2), 'probe', 'the host refused the try');
    assert.equal(slots.limit, 2, 'back where it was');
    assert.equal(slots.probing, false);
    g.release('a3'); // the refused call goes back to the queue
    const a4 = g.ask('A', 'a4');
    await settle();
    for (let i = 1; i < 2 * PROBE_AFTER; i++) slots.accepted(2);
    assert.equal(slots.limit, 2, 'after a refused try, the next waits twice as long');
    slots.accepted(2);
    assert.equal(slots.limit, 3);
    await a4;
    for (let i = 1; i < CONFIRM_TRIES; i++) slots.accepted(3);
    assert.equal(slots.probing, true, 'one session over the old limit can be luck (one that was ending)');
    assert.equal(slots.refusedAt(3), 'probe', 'refused before the try held: back, quietly');
    assert.equal(slots.limit, 2);
    const a5 = g.ask('A', 'a5');
    await settle();
    for (let i = 0; i < 4 * PROBE_AFTER; i++) slots.accepted(2);
    assert.equal(slots.limit, 3);
    g.release('a4');
    await a5;
    for (let i = 0; i < CONFIRM_TRIES; i++) slots.accepted(3); // the host took the try, again and again: the new limit holds
    assert.equal(slots.probing, false);
    assert.equal(slots.refusedAt(3), 'kept', 'a refusal at the limit, not a try: nothing to learn');
    assert.equal(slots.refusedAt(1), 'lowered');
    assert.equal(slots.limit, 1);
    slots.setLimit(4);
    for (let i = 0; i < 10 * PROBE_AFTER; i++) slots.accepted(4);
    assert.equal(slots.limit, 4, 'never above max_sessions');
  });

  test('a try that has not held ends quietly once nobody waits: the limit goes back to the one the host proved', async () => {
    const slots = new SessionSlots(4, 4);
    const g = new Grants(slots);
    slots.setLimit(2);
    await g.ask('A', 'a1');
    await g.ask('A', 'a2');
    const a3 = g.ask('A', 'a3');
    await settle();
    for (let i = 0; i < PROBE_AFTER; i++) slots.accepted(2);
    assert.equal(slots.limit, 3);
    await a3;
    slots.accepted(3); // once: maybe luck
    const a4 = g.ask('A', 'a4');
    await settle();
    g.release('a3'); // a4 takes its slot: calls still wait for more than the old limit
    await a4;
    assert.equal(slots.probing, true);
    assert.equal(slots.limit, 3);
    g.release('a4');
    assert.equal(slots.probing, false, 'nobody waits, the old limit is out');
    assert.equal(slots.limit, 2, 'back to the proven limit');
    g.release('a2');
    g.release('a1');
  });
});
