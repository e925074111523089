/**
 * A call the client cancels (notifications/cancelled aborts its signal) stops at the next stage
 * boundary before it executes: the tool never runs, the transcript holds its intent and a
 * WARDEN_CANCELLED outcome. Arguments no backend receives as sent (NUL, lone surrogates) are
 * refused in validate. Real SQLite store; a small plug-in tool counts its executions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { unencodableString } from '../../src/pipeline/input-guard.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { GovernedTool, Principal } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';

const POLICY = `rules:\n  - id: probe-all\n    effect: allow\n    who: { groups: [g] }\n    tool: probe\n`;
const principal: Principal = { subject: 'alice', groups: ['g'], claims: {}, authMethod: 'stdio' };

test('a call cancelled while it is parsed never executes, and its outcome says so', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 't.db'), { synchronous: 'FULL' });
  t.after(() => void store.close());
  await store.openSession({ id: 's1', principal: { subject: 'alice', groups: ['g'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const ac = new AbortController();
  let executed = 0;
  const tool: GovernedTool<{ connection: string }, { family: string; summary: string }> = {
    name: 'probe',
    title: 'probe',
    description: 'a write whose client cancels while it is parsed',
    connectionTypes: ['probe'],
    input: z.object({ connection: z.string() }).strict(),
    annotations: {},
    parse: () => {
      ac.abort();
      return { family: 'probe', summary: 'write' };
    },
    isReadOnly: () => false,
    async execute() {
      executed++;
      return { kind: 'text', streams: { stdout: 'ran' }, exitCode: 0, truncated: false };
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
  });
  const r = await pipeline.handle({ sessionId: 's1', principal, tool: 'probe', args: { connection: 'c' }, signal: ac.signal });
  assert.equal(r.isError, true);
  assert.match(r.content[0]!.text, /^WARDEN_CANCELLED: /);
  assert.equal(executed, 0, 'the cancelled call never ran');
  const calls = await store.listCalls!({});
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.outcome?.errorCode, 'WARDEN_CANCELLED');
  assert.equal((await store.verify()).ok, true);
});

test('unencodableString finds NUL and lone surrogates in values and keys and numbers past 2^53 - 1, and accepts paired surrogates and exact numbers', () => {
  assert.equal(unencodableString({ sql: 'SELECT 1', params: ['é', '😀', 1, null] }), null);
  assert.match(unencodableString({ sql: 'a\u0000b' }) ?? '', /NUL character at sql/);
  assert.match(unencodableString({ params: ['ok', '\uD83D'] }) ?? '', /lone surrogate .* at params\.1/);
  assert.match(unencodableString({ params: ['\uDE00x'] }) ?? '', /lone surrogate/);
  assert.match(unencodableString({ 'k\u0000': 1 }) ?? '', /NUL character .* in a key/);
  assert.match(unencodableString({ a: { '\uD800': 1 } }) ?? '', /lone surrogate .* at a in a key/);
  // A number JSON.parse could only round: refused wherever it is; exact numbers pass.
  assert.match(unencodableString({ params: [1, 2 ** 53] }) ?? '', /number past 2\^53 - 1 at params\.1/);
  assert.match(unencodableString({ a: { b: -1e300 } }) ?? '', /number past 2\^53 - 1 at a\.b/);
  assert.equal(unencodableString({ params: [2 ** 53 - 1, -(2 ** 53 - 1), 1.5, -0, 1e-300, 0.1] }), null);
});
