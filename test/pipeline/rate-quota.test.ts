/**
 * Rows quotas hold through the pipeline: a result larger than what the hour has left is cut
 * (truncated, with a note), and calls running at once, which all passed the check before they
 * ran, together never deliver more rows than the quota. Real SQLite store; a plug-in table tool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { createRateLimiter } from '../../src/pipeline/rate-limit.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { GovernedTool, Principal } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';

const POLICY = `rules:\n  - id: rows-all\n    effect: allow\n    who: { groups: [g] }\n    tool: rows\n`;
const principal: Principal = { subject: 'alice', groups: ['g'], claims: {}, authMethod: 'stdio' };

async function setup(t: { after(fn: () => void): void }, rowsPerCall: number, gate?: Promise<void>) {
  const store = openSqliteStore(join(tempDir(t as never), 't.db'), { synchronous: 'FULL' });
  t.after(() => void store.close());
  await store.openSession({ id: 's1', principal: { subject: 'alice', groups: ['g'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const tool: GovernedTool<{ connection: string }, { family: string; summary: string }> = {
    name: 'rows',
    title: 'rows',
    description: 'returns a fixed number of rows',
    connectionTypes: ['rows'],
    input: z.object({ connection: z.string() }).strict(),
    annotations: {},
    parse: () => ({ family: 'rows', summary: 'read' }),
    isReadOnly: () => true,
    async execute() {
      await gate;
      const rows = Array.from({ length: rowsPerCall }, (_, i) => [i]);
      return { kind: 'table', columns: [{ name: 'n', type: '23' }], rows, rowCount: rows.length, truncated: false };
    },
  };
  return createPipeline({
    tools: [tool as unknown as GovernedTool],
    connections: [{ name: 'c', type: 'rows' }],
    policy: () => compilePolicy(['p.yaml'], [], { 'p.yaml': POLICY }),
    store,
    masking: { apply: (v) => v, scanner: () => ({ scan: (text: string) => ({ text, hits: {} }) }) },
    limits: { maxInputBytes: 65536, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 1000 },
    log: () => undefined,
    rateLimiter: createRateLimiter(() => ({ rows_per_hour: 5 })),
  });
}

const call = (p: Awaited<ReturnType<typeof setup>>) => p.handle({ sessionId: 's1', principal, tool: 'rows', args: { connection: 'c' }, signal: new AbortController().signal });
const rowsIn = (text: string) => text.split('\n').filter((l) => /^\d+$/.test(l)).length;

test('one result larger than the rows quota has left is cut to it', async (t) => {
  const p = await setup(t, 8);
  const r = await call(p);
  assert.equal(r.isError, undefined);
  assert.equal(rowsIn(r.content[0]!.text), 5, r.content[0]!.text);
  assert.match(r.content[0]!.text, /rows-per-hour quota/);
  assert.match((await call(p)).content[0]!.text, /^WARDEN_RATE_LIMITED: /);
});

test('calls admitted together never deliver more rows than the quota', async (t) => {
  let open!: () => void;
  const p = await setup(t, 3, new Promise<void>((r) => (open = r)));
  const running = [call(p), call(p), call(p)];
  await new Promise((r) => setTimeout(r, 20));
  open();
  const texts = (await Promise.all(running)).map((r) => r.content[0]!.text);
  assert.equal(texts.reduce((n, x) => n + rowsIn(x), 0), 5, texts.join('\n---\n'));
});
