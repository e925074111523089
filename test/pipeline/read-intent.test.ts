/**
 * When a call's intent is committed relative to its execution (transcripts.read_intent):
 * a call that may change anything never starts before its intent is durable; a read-only call
 * may run while its intent commits (overlap), but no result moves on before the intent landed,
 * and a failed intent refuses the call. Real SQLite store; a small plug-in tool records what it
 * saw of the transcript at the moment it started.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { GovernedTool, Principal } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';

const POLICY = `rules:\n  - id: probe-all\n    effect: allow\n    who: { groups: [g] }\n    tool: probe\n`;
const principal: Principal = { subject: 'alice', groups: ['g'], claims: {}, authMethod: 'stdio' };

async function setup(t: { after: (fn: () => void) => void }, readIntent: 'overlap' | 'before') {
  const store = openSqliteStore(join(tempDir(t), 't.db'), { synchronous: 'FULL' });
  await store.openSession({ id: 's1', principal: { subject: 'alice', groups: ['g'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const seen: { write: boolean; intentCommitted: boolean }[] = [];
  const tool: GovernedTool<{ connection: string; write: boolean }, { family: string; summary: string; write: boolean }> = {
    name: 'probe',
    title: 'probe',
    description: 'reports whether its intent was committed when it started',
    connectionTypes: ['probe'],
    input: z.object({ connection: z.string(), write: z.boolean() }).strict(),
    annotations: {},
    parse: (input) => ({ family: 'probe', summary: input.write ? 'write' : 'read', write: input.write }),
    isReadOnly: (facts) => !facts.write,
    async execute(input) {
      const calls = await store.listCalls({}).catch(() => []);
      seen.push({ write: input.write, intentCommitted: calls.length > seen.length });
      return { kind: 'table', columns: [{ name: 'secret' }], rows: [['row-data']], rowCount: 1, truncated: false };
    },
  };
  const pipeline = createPipeline({
    tools: [tool as unknown as GovernedTool],
    connections: [{ name: 'c', type: 'probe' }],
    policy: () => compilePolicy(['p.yaml'], [], { 'p.yaml': POLICY }),
    store,
    masking: { apply: (v) => v, scanner: () => ({ scan: (text: string) => ({ text, hits: {} }) }) },
    limits: { maxInputBytes: 65536, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 100 },
    log: () => undefined,
    readIntent,
  });
  const call = (write: boolean) => pipeline.handle({ sessionId: 's1', principal, tool: 'probe', args: { connection: 'c', write }, signal: new AbortController().signal });
  t.after(() => void store.close());
  return { store, seen, call };
}

test('overlap: a read runs while its intent commits, and its result follows the intent in the chain', async (t) => {
  const { store, seen, call } = await setup(t, 'overlap');
  const r = await call(false);
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.deepEqual(seen, [{ write: false, intentCommitted: false }], 'the read started before its intent was committed');
  const kinds = (await store.readRecords(1, 10)).map((x) => x.kind);
  assert.deepEqual(kinds, ['session_open', 'call_intent', 'call_outcome'], 'intent before outcome');
  assert.equal((await store.verify()).ok, true);
});

test('overlap: a call that may write still waits for its durable intent', async (t) => {
  const { seen, call } = await setup(t, 'overlap');
  const r = await call(true);
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.deepEqual(seen, [{ write: true, intentCommitted: true }]);
});

test('before: a read waits for its intent too', async (t) => {
  const { seen, call } = await setup(t, 'before');
  await call(false);
  assert.deepEqual(seen, [{ write: false, intentCommitted: true }]);
});

test('overlap: a read whose intent cannot be written is refused and its rows never leave', async (t) => {
  const { store, seen, call } = await setup(t, 'overlap');
  assert.equal((await call(false)).isError, undefined);
  await store.close(); // every later write fails
  const r = await call(false);
  assert.equal(r.isError, true);
  assert.match(r.content[0]!.text, /^WARDEN_TRANSCRIPT/);
  assert.doesNotMatch(JSON.stringify(r), /row-data/, 'no result of the refused call reaches the agent');
  assert.equal(seen.length, 2, 'the read itself ran (overlap), but nothing of it was released');
});
