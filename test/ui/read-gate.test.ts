/**
 * ReadGate (src/ui/read-gate.ts): the UI's transcript reads one at a time, the event loop turning
 * between two of them, capped per reviewer and in all with WARDEN_RATE_LIMITED. The end-to-end
 * proof (an agent's MCP calls during a flood of searches) is test/e2e/ui-reads-starve.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError } from '../../src/errors.js';
import { MAX_READS, MAX_READS_PER_REVIEWER, ReadGate } from '../../src/ui/read-gate.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a synchronous read */
  }
};

test('reads run one at a time and pending I/O runs between two of them', async () => {
  const gate = new ReadGate();
  const order: string[] = [];
  const read = (name: string) => gate.run('r', async () => {
    order.push(`start ${name}`);
    busy(20);
    // Something that arrived during this read (an agent's request): it must run before the next read.
    setImmediate(() => order.push(`io after ${name}`));
    order.push(`end ${name}`);
  });
  await Promise.all([read('a'), read('b'), read('c')]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['start a', 'end a', 'io after a', 'start b', 'end b', 'io after b', 'start c', 'end c', 'io after c']);
});

test('a chain of turns that starts during a read (an agent call: socket, awaits, group commit, response) finishes before the next read', async () => {
  const gate = new ReadGate();
  const order: string[] = [];
  const hops = (name: string, n: number) => {
    // Each link of the chain is a later turn of the event loop, as a call's stages are.
    const link = (i: number) => {
      order.push(`${name} ${i}`);
      if (i < n) (i % 3 === 0 ? setTimeout : setImmediate)(() => link(i + 1));
    };
    setImmediate(() => link(1));
  };
  const read = (name: string, chain?: string) => gate.run('r', async () => {
    order.push(`start ${name}`);
    if (chain) hops(chain, 12);
    busy(30);
    order.push(`end ${name}`);
  });
  await Promise.all([read('a', 'call'), read('b'), read('c')]);
  const startB = order.indexOf('start b');
  // Before: one turn between two reads, so the call's second link waited behind read b, its third behind c.
  assert.deepEqual(order.slice(0, startB), ['start a', 'end a', ...Array.from({ length: 12 }, (_, i) => `call ${i + 1}`)], order.join(', '));
  assert.deepEqual(order.slice(startB), ['start b', 'end b', 'start c', 'end c']);
});

test('reads past the per-reviewer cap or the total cap are refused at once with WARDEN_RATE_LIMITED', async () => {
  const gate = new ReadGate();
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const held: Promise<unknown>[] = [];
  for (let i = 0; i < MAX_READS_PER_REVIEWER; i++) held.push(gate.run('alice', () => hold));
  await assert.rejects(gate.run('alice', async () => 1), (e: unknown) => e instanceof WardenError && e.code === ErrorCode.RATE_LIMITED && /this reviewer/.test(e.message));
  // Other reviewers fill the rest; then everyone is refused.
  for (let i = MAX_READS_PER_REVIEWER; i < MAX_READS; i++) held.push(gate.run(`r${i}`, () => hold));
  await assert.rejects(gate.run('bob', async () => 1), (e: unknown) => e instanceof WardenError && e.code === ErrorCode.RATE_LIMITED && /in all/.test(e.message));
  release();
  await Promise.all(held);
  // Once they finished, reads are admitted again; a failed read frees its place too.
  await assert.rejects(gate.run('alice', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await gate.run('alice', async () => 7), 7);
  assert.equal(await gate.run('bob', async () => 8), 8);
});
