/**
 * Seeded transport fuzzing of `warden serve` over stdio, through its real pipes: a few hundred
 * hostile lines (fuzz-inputs.ts: truncated and non-UTF-8 JSON, batches, odd ids, unknown methods,
 * params of wrong types, deep and prototype-keyed arguments, strings at the size limit, odd
 * numbers, tool name look-alikes, notifications with ids, a second initialize, cancels of unknown
 * ids, duplicate ids in flight, requests before initialize). After every case the process is
 * alive and serves a well-formed call; every answer is a coded error or a result, with no stack,
 * path or secret; every request with a usable id is answered; the transcript chain verifies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WARDEN_BIN } from '../support/repo.js';
import { initializeLine, itemsWarden, line } from '../support/stdio-raw.js';
import { assertCodedAnswer, fuzzCorpus } from '../support/fuzz-inputs.js';

const SEED = Number(process.env.WARDEN_FUZZ_SEED ?? 20261201);
const CASES = 272;
const MAX_BODY = 1024 * 1024;
const fx = itemsWarden('fuzz_stdio');
const env = () => ({ PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', ...fx.env() });

/** A raw stdio peer that parses each answer line once (answers to 1 MiB lines stay cheap to scan). */
function peer(): { child: ChildProcess; send(b: Buffer | string): Promise<void>; answers: Record<string, any>[]; wait(what: string, pred: () => boolean, ms?: number): Promise<void>; stderr(): string } {
  const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--config', fx.dir().configPath], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
  const answers: Record<string, any>[] = [];
  let rest = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l.trim()) answers.push(JSON.parse(l) as Record<string, any>);
  });
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.stdin!.on('error', () => undefined);
  const send = (b: Buffer | string) => new Promise<void>((r) => (child.stdin!.write(b) ? r() : child.stdin!.once('drain', () => r())));
  const wait = async (what: string, pred: () => boolean, ms = 20_000) => {
    for (const t0 = Date.now(); !pred(); ) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: the server exited (${child.exitCode ?? child.signalCode}); stderr: ${err}`);
      if (Date.now() - t0 > ms) throw new Error(`${what}: no answer in ${ms} ms (a hang); stderr: ${err}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { child, send, answers, wait, stderr: () => err };
}

const probeLine = (id: string) => line({ id, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'db', sql: "SELECT id, 'probe-ok' AS m FROM items" } } });

/** Send a probe and assert the well-formed call is served correctly. */
async function probe(p: ReturnType<typeof peer>, id: string, after: string): Promise<void> {
  await p.send(probeLine(id));
  await p.wait(`the probe after ${after}`, () => p.answers.some((m) => m.id === id));
  const a = p.answers.filter((m) => m.id === id);
  assert.equal(a.length, 1, `${after}: ${JSON.stringify(a).slice(0, 400)}`);
  assert.equal(a[0]!.result?.isError, undefined, `${after}: ${JSON.stringify(a[0]).slice(0, 400)}`);
  assert.match(String(a[0]!.result?.content?.[0]?.text), /probe-ok/, after);
}

function secrets(): string[] {
  const u = new URL(fx.db().url);
  return [fx.db().url, decodeURIComponent(u.password), fx.dir().dir, fx.dir().configPath].filter((s) => s.length >= 6);
}

async function verifyTranscript(): Promise<void> {
  const c = spawn(process.execPath, [WARDEN_BIN, 'transcripts', 'verify', '--config', fx.dir().configPath], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => c.on('close', r));
  assert.equal(code, 0, `transcripts verify: ${out}`);
}

async function stop(p: ReturnType<typeof peer>): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.stdin!.end();
  const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

test('requests and notifications before initialize are answered coded; initialize then serves', async () => {
  const p = peer();
  try {
    const early = [
      line({ id: 'e1', method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'db', sql: 'SELECT 1' } } }),
      line({ id: 'e2', method: 'tools/list', params: {} }),
      line({ id: 'e3', method: 'ping' }),
      line({ method: 'notifications/initialized' }),
      line({ method: 'notifications/cancelled', params: { requestId: 'e1' } }),
      line({ id: 'e4', method: 'no/such/method' }),
    ];
    for (const l of early) await p.send(l);
    await p.send(initializeLine('init'));
    await p.wait('initialize after early lines', () => p.answers.some((m) => m.id === 'init'));
    await p.send(line({ method: 'notifications/initialized' }));
    await probe(p, 'probe-early', 'early requests');
    for (const id of ['e1', 'e2', 'e4']) assert.ok(p.answers.some((m) => m.id === id), `${id} answered`);
    for (const m of p.answers) if (m.id !== 'init' && m.id !== 'probe-early') assertCodedAnswer(m, secrets(), `early ${String(m.id)}`);
    assert.equal(p.answers.find((m) => m.id === 'e1')?.result, undefined, 'the early call ran nothing');
  } finally {
    await stop(p);
  }
});

test(`seeded fuzz (seed ${SEED}, ${CASES} cases): alive, served, coded, answered, and the chain verifies`, async () => {
  const p = peer();
  const corpus = fuzzCorpus(SEED, CASES, 'db', 'SELECT id FROM items', MAX_BODY);
  try {
    await p.send(initializeLine(1));
    await p.wait('initialize', () => p.answers.some((m) => m.id === 1), 120_000);
    await p.send(line({ method: 'notifications/initialized' }));
    const expected: { id: string | number; label: string }[] = [];
    for (const [i, c] of corpus.entries()) {
      await p.send(Buffer.concat([c.bytes, Buffer.from('\n')]));
      if (c.answerId !== undefined) expected.push({ id: c.answerId, label: c.label });
      if (i % 17 === 0) {
        // Duplicate ids in flight: the same id twice, back to back, as one write.
        const dup = probeLine(`dup${i}`);
        await p.send(dup + dup);
        expected.push({ id: `dup${i}`, label: 'duplicate id in flight' });
      }
      await probe(p, `probe-${i}`, `case ${i} (${c.label})`);
    }
    await p.wait('every request with a usable id answered', () => expected.every((e) => p.answers.some((m) => m.id === e.id)), 30_000).catch((e: Error) => {
      const missing = expected.filter((x) => !p.answers.some((m) => m.id === x.id));
      throw new Error(`${e.message}: unanswered ${JSON.stringify(missing.slice(0, 10))}`);
    });
    const label = new Map(expected.map((e) => [e.id, e.label]));
    const bad = new Set<string>();
    for (const m of p.answers) {
      try {
        if (m.id !== 1) assertCodedAnswer(m, secrets(), String(label.get(m.id) ?? m.id));
      } catch (e) {
        bad.add((e as Error).message.replace(/"id":"?[a-z]*\d+"?/g, '"id":N').slice(0, 300));
      }
    }
    assert.deepEqual([...bad], [], 'every answer passes the oracle');
    for (const e of expected.filter((x) => x.label === 'duplicate id in flight')) {
      const both = p.answers.filter((m) => m.id === e.id);
      assert.equal(both.filter((m) => m.result !== undefined && m.result.isError === undefined).length, 1, `one of two ${String(e.id)} ran: ${JSON.stringify(both).slice(0, 400)}`);
    }
    assert.equal(p.child.exitCode, null, 'alive at the end');
  } finally {
    await stop(p);
  }
  await verifyTranscript();
});
