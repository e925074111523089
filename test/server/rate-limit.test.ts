/**
 * Rate limits and quotas with a movable clock: trip, answer WARDEN_RATE_LIMITED, recover.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from '../../src/pipeline/rate-limit.js';
import type { Principal } from '../../src/tool-api.js';
import type { CallLimits } from '../../src/policy/schema.js';

const ana: Principal = { subject: 'ana', groups: ['analysts'], claims: {}, authMethod: 'oidc' };
const bob: Principal = { subject: 'bob', groups: ['analysts'], claims: {}, authMethod: 'oidc' };

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? 'other';
  }
}

test('calls per minute trips per principal and recovers as the window slides', () => {
  const c = clock();
  const rl = createRateLimiter(() => ({ calls_per_minute: 3 }), c.now);
  for (let i = 0; i < 3; i++) rl.admit(ana).release();
  assert.equal(code(() => rl.admit(ana)), 'WARDEN_RATE_LIMITED');
  assert.equal(code(() => rl.admit(bob).release()), null, 'another principal has its own budget');
  c.advance(30_000);
  assert.equal(code(() => rl.admit(ana)), 'WARDEN_RATE_LIMITED');
  c.advance(30_001);
  assert.equal(code(() => rl.admit(ana).release()), null, 'recovered after a minute');
});

test('concurrent calls are capped and a released slot is reusable', () => {
  const rl = createRateLimiter(() => ({ concurrent: 2 }));
  const a = rl.admit(ana);
  const b = rl.admit(ana);
  assert.equal(code(() => rl.admit(ana)), 'WARDEN_RATE_LIMITED');
  a.release();
  a.release(); // idempotent: a double release must not free a second slot
  const d = rl.admit(ana);
  assert.equal(code(() => rl.admit(ana)), 'WARDEN_RATE_LIMITED');
  b.release();
  d.release();
});

test('rows and bytes per hour are charged after calls and block once used', () => {
  const c = clock();
  const rl = createRateLimiter(() => ({ rows_per_hour: 100, bytes_per_hour: 10_000 }), c.now);
  const t = rl.admit(ana);
  t.charge(60, 1000);
  t.release();
  const u = rl.admit(ana);
  u.charge(50, 1000);
  u.release();
  const err = (() => {
    try {
      rl.admit(ana);
    } catch (e) {
      return e as { code: string; message: string; details: Record<string, unknown> };
    }
    return null;
  })();
  assert.equal(err?.code, 'WARDEN_RATE_LIMITED');
  assert.equal(err?.details.limit, 'rows_per_hour');
  c.advance(3_600_001);
  assert.equal(code(() => rl.admit(ana).release()), null, 'the hourly window slid');
});

test('rule limits count per principal and rule, on top of the principal limits', () => {
  const rl = createRateLimiter(() => ({}));
  const rule = { id: 'analysts-read', limits: { calls_per_minute: 2 } as CallLimits };
  for (let i = 0; i < 2; i++) {
    const t = rl.admit(ana);
    t.admitRules([rule, { id: 'no-limits' }]);
    t.release();
  }
  const t = rl.admit(ana);
  assert.equal(code(() => t.admitRules([rule])), 'WARDEN_RATE_LIMITED');
  t.release();
  const other = rl.admit(ana);
  assert.equal(code(() => other.admitRules([{ id: 'other-rule', limits: { calls_per_minute: 2 } }])), null, 'another rule has its own budget');
  other.release();
  const b = rl.admit(bob);
  assert.equal(code(() => b.admitRules([rule])), null, 'another principal has its own budget under the rule');
  b.release();
});

test('a rule concurrency slot is released with the call', () => {
  const rl = createRateLimiter(() => ({}));
  const rule = { id: 'slow', limits: { concurrent: 1 } as CallLimits };
  const a = rl.admit(ana);
  a.admitRules([rule]);
  const b = rl.admit(ana);
  assert.equal(code(() => b.admitRules([rule])), 'WARDEN_RATE_LIMITED');
  b.release();
  a.release();
  const c2 = rl.admit(ana);
  c2.admitRules([rule]);
  c2.release();
});

test('usage charged at the end of a long call outlives the idle sweep for the hour it counts', () => {
  const c = clock();
  const rl = createRateLimiter(() => ({ rows_per_hour: 100 }), c.now);
  const long = rl.admit(ana);
  c.advance(59 * 60_000); // the call ran (or waited for approval) 59 minutes
  long.charge(100, 0);
  long.release();
  c.advance(2 * 60_000); // ana's last admission is over an hour old; her rows are 2 minutes old
  for (let i = 0; i < 1024; i++) rl.admit(bob).release(); // enough admissions to run the sweep
  assert.equal(code(() => rl.admit(ana)), 'WARDEN_RATE_LIMITED', 'the rows still count');
});

test('takeRows hands out only what every rows quota has left, and charges it at once', () => {
  const rl = createRateLimiter(() => ({ rows_per_hour: 10 }));
  const rule = { id: 'r', limits: { rows_per_hour: 6 } as CallLimits };
  const a = rl.admit(ana);
  a.admitRules([rule]);
  const b = rl.admit(ana); // admitted while a runs: both passed the check
  b.admitRules([rule]);
  assert.equal(a.takeRows(4), 4);
  assert.equal(b.takeRows(4), 2, 'the rule has 2 rows left');
  a.release();
  b.release();
  assert.equal(code(() => rl.admit(ana).admitRules([rule])), 'WARDEN_RATE_LIMITED');
  const other = rl.admit(ana);
  assert.equal(other.takeRows(9), 4, 'the principal quota has 4 rows left');
  other.release();
  const free = createRateLimiter(() => ({})).admit(ana);
  assert.equal(free.takeRows(1000), 1000, 'no rows quota, no cut');
  free.release();
});

test('bytesLeft is what every bytes quota has left, after charges of calls admitted together', () => {
  const rl = createRateLimiter(() => ({ bytes_per_hour: 1000 }));
  const rule = { id: 'r', limits: { bytes_per_hour: 600 } as CallLimits };
  const a = rl.admit(ana);
  a.admitRules([rule]);
  const b = rl.admit(ana); // admitted while a runs: both passed the check
  b.admitRules([rule]);
  assert.equal(a.bytesLeft(), 600);
  a.charge(0, 450);
  assert.equal(b.bytesLeft(), 150, 'the rule has 150 bytes left');
  a.release();
  b.release();
  const other = rl.admit(ana);
  assert.equal(other.bytesLeft(), 550, 'the principal quota has 550 bytes left');
  other.release();
  const free = createRateLimiter(() => ({})).admit(ana);
  assert.equal(free.bytesLeft(), Infinity, 'no bytes quota, no cut');
  free.release();
});
