/**
 * The whole path with the real scanner and a real SQLite transcript: what a tool returns (keys,
 * deep JSON, bytes, notes) and what it throws are masked before the agent or the transcript sees
 * them, the recorded "what masking did" holds counts only, and arguments the pipeline cannot
 * take (too large, too deep, an unknown "__proto__" key) are refused with a code before any tool runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { compileScanner, createMasker } from '../../src/masking/index.js';
import { WardenError, ErrorCode, type GovernedTool, type Principal, type ToolOutput } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';

const POLICY = `
masking:
  detectors: [email, credit_card, us_ssn, jwt, aws_access_key, private_key, password_in_url, bearer_token]
rules:
  - id: probe-all
    effect: allow
    who: { groups: [g] }
    tool: probe
`;
const principal: Principal = { subject: 'alice', groups: ['g'], claims: {}, authMethod: 'stdio' };
const SECRET = 'carol@example.com';

function deepOf(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { k: [v] };
  return v;
}

const OUTPUTS: Record<string, () => ToolOutput> = {
  key: () => ({ kind: 'table', columns: [{ name: 'prefs' }], rows: [[{ [SECRET]: true }]], rowCount: 1, truncated: false }),
  deep: () => ({ kind: 'json', data: deepOf(40, `owner ${SECRET}`), truncated: false }),
  bytes: () => ({ kind: 'table', columns: [{ name: 'blob' }], rows: [[Buffer.from(`to ${SECRET}`)]], rowCount: 1, truncated: false }),
  note: () => ({ kind: 'text', streams: { stdout: 'ok', stderr: `warn ${SECRET}` }, exitCode: 0, truncated: false, notes: [`seen ${SECRET}`] }),
  unicode: () => ({ kind: 'text', streams: { stdout: 'carol\u200B@example.com / card ４１１１ １１１１ １１１１ １１１１' }, exitCode: 0, truncated: false }),
};

async function setup(t: { after: (fn: () => void) => void }, logged: string[] = []) {
  const store = openSqliteStore(join(tempDir(t), 't.db'), { synchronous: 'FULL' });
  await store.openSession({ id: 's1', principal: { subject: 'alice', groups: ['g'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const ran: string[] = [];
  const tool: GovernedTool<{ connection: string; what: string; pad?: unknown }> = {
    name: 'probe',
    title: 'probe',
    description: 'returns a canned output, or throws what a backend would say',
    connectionTypes: ['probe'],
    input: z.object({ connection: z.string(), what: z.string(), pad: z.unknown().optional() }).strict(),
    annotations: { readOnlyHint: true },
    parse: (input) => ({ family: 'probe', summary: input.what }),
    isReadOnly: () => true,
    async execute(input) {
      ran.push(input.what);
      if (input.what === 'throw') throw new WardenError(ErrorCode.BACKEND, `backend said: duplicate key (email)=(${SECRET}) card 4111-1111-1111-1111`);
      if (input.what === 'crash') throw new Error(`TypeError near {"email":"${SECRET}"}`);
      return (OUTPUTS[input.what] as () => ToolOutput)();
    },
  };
  const masker = createMasker({ hashKey: 'k' });
  const pipeline = createPipeline({
    tools: [tool as unknown as GovernedTool],
    connections: [{ name: 'c', type: 'probe' }],
    policy: () => compilePolicy(['p.yaml'], [], { 'p.yaml': POLICY }),
    store,
    masking: { apply: masker.apply, scanner: (p) => compileScanner({ detectors: p.masking.detectors, custom: p.masking.custom }) },
    limits: { maxInputBytes: 4096, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 100 },
    log: (level, msg, data) => void logged.push(`${level} ${msg} ${JSON.stringify(data ?? {})}`),
  });
  const call = (args: unknown) => pipeline.handle({ sessionId: 's1', principal, tool: 'probe', args: args as Record<string, unknown>, signal: new AbortController().signal });
  const transcript = async (): Promise<string> => (await store.readRecords!(1, 1000)).map((r) => r.body).join('\n');
  t.after(() => void store.close());
  return { call, ran, transcript };
}

test('results: keys, deep JSON, bytes, notes, stderr and Unicode tricks are masked for the agent and the transcript', async (t) => {
  const { call, transcript } = await setup(t);
  for (const what of Object.keys(OUTPUTS)) {
    const r = await call({ connection: 'c', what });
    assert.equal(r.isError, undefined, `${what}: ${JSON.stringify(r)}`);
    const agent = JSON.stringify(r.content) + JSON.stringify(r.structuredContent);
    assert.doesNotMatch(agent, /carol|4111|９/, `${what}: the agent saw ${agent}`);
  }
  const stored = await transcript();
  assert.doesNotMatch(stored, /carol|4111/, 'the transcript holds masked results only');
  assert.match(stored, /"email":1/, 'what masking did is recorded as counts');
});

test('errors: a backend message and an unexpected exception are masked before the agent and the transcript', async (t) => {
  const { call, transcript } = await setup(t);
  for (const what of ['throw', 'crash']) {
    const r = await call({ connection: 'c', what });
    assert.equal(r.isError, true);
    assert.doesNotMatch(JSON.stringify(r), /carol|4111/, `${what}: ${JSON.stringify(r)}`);
  }
  assert.doesNotMatch(await transcript(), /carol|4111/);
});

// An exception that is not a WardenError is logged to stderr: its message is masked there too.
test('errors: the server log carries no secret from an unexpected exception', async (t) => {
  const logged: string[] = [];
  const { call } = await setup(t, logged);
  await call({ connection: 'c', what: 'crash' });
  assert.ok(logged.length > 0, 'the failure was logged');
  assert.doesNotMatch(logged.join('\n'), /carol/);
});

test('input: too large or carrying a "__proto__" key is refused with a code; nothing runs', async (t) => {
  const { call, ran } = await setup(t);
  const refusals: [string, unknown][] = [
    ['oversized', { connection: 'c', what: 'key', pad: 'x'.repeat(5000) }],
    ['__proto__ key', JSON.parse('{"connection":"c","what":"key","__proto__":{"what":"deep"}}')],
  ];
  for (const [name, args] of refusals) {
    const r = await call(args);
    assert.equal(r.isError, true, name);
    assert.match(r.content[0]!.text, /^WARDEN_INVALID_INPUT/, `${name}: ${r.content[0]!.text.slice(0, 200)}`);
  }
  assert.deepEqual(ran, [], 'no refused call reached the tool');
});

test('input: arguments nested 100,000 deep are refused with a code; nothing runs', async (t) => {
  const { call, ran } = await setup(t);
  const r = await call({ connection: 'c', what: 'key', pad: deepOf(100_000, 1) });
  assert.equal(r.isError, true);
  assert.match(r.content[0]!.text, /^WARDEN_[A-Z_]+:/);
  assert.deepEqual(ran, []);
});

// Recording the refused call's arguments whole would overflow the recorder's canonical JSON: the
// transcript stores why they were refused instead, and the refusal is recorded.
test('input: the refusal of arguments nested 100,000 deep is recorded as invalid input', async (t) => {
  const { call, transcript } = await setup(t);
  const r = await call({ connection: 'c', what: 'key', pad: deepOf(100_000, 1) });
  assert.match(r.content[0]!.text, /^WARDEN_INVALID_INPUT/);
  const stored = await transcript();
  assert.match(stored, /WARDEN_INVALID_INPUT/);
  assert.match(stored, /\$unrecorded.{0,10}arguments nest deeper than 64 levels/, 'the record says why the arguments are not stored');
  const big = await call({ connection: 'c', what: 'key', pad: 'y'.repeat(5000) });
  assert.match(big.content[0]!.text, /^WARDEN_INVALID_INPUT/);
  assert.doesNotMatch(await transcript(), /y{1000}/, 'oversized arguments are not stored either');
});
