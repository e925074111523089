/**
 * What `warden serve` over stdio does with lines that are not a message it may serve, through its
 * real pipes: a line longer than http.max_body_bytes is answered -32600 WARDEN_INVALID_INPUT and
 * discarded, and the session serves on (the SDK's reader closed the connection at 10 MiB and the
 * process exited 0, answering nothing); a line that is not JSON, a batch, an id that is an
 * object or null and a progressToken that is an object are answered (they were
 * dropped in silence: the client waited forever); nothing of any of them runs. Arguments nested
 * 100,000 deep are answered with their call's id (the pipeline's refusal).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { itemsWarden, rawWarden as rawWardenAt } from '../support/stdio-raw.js';

const fx = itemsWarden('stdio_framing');

const rawWarden = () => rawWardenAt(fx.dir().configPath, { TEST_DATABASE_URL: fx.db().url });

const call = (id: unknown, sql: string, extra: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'db', sql }, ...extra } }) + '\n';

function recordedSql(): string[] {
  const t = new Database(fx.dir().dbPath, { readonly: true });
  try {
    return (t.prepare('SELECT args FROM calls').all() as { args: string }[]).map((r) => r.args);
  } finally {
    t.close();
  }
}

test('a line longer than http.max_body_bytes is answered, discarded as it arrives, and the session serves on', async () => {
  const w = await rawWarden();
  try {
    // 11 MiB: over the default limit (1 MiB) and over the SDK reader's own 10 MiB.
    const huge = call(2, `SELECT 'oversized-${'x'.repeat(11 * 1024 * 1024)}'`);
    await w.write(huge);
    await w.until('the oversized line', (a) => a.some((m) => m.error?.code === -32600 && /max_body_bytes/.test(m.error.message)));
    const refusal = w.answers().find((m) => m.error?.code === -32600)!;
    assert.equal(refusal.id, null);
    assert.match(refusal.error!.message, /^WARDEN_INVALID_INPUT: a message longer than 1048576 bytes/);
    assert.ok(refusal.error!.message.length < 400, 'the refusal does not echo the line');
    // The next line after it is served: the discard ended at the oversized line's newline.
    await w.write(call(3, "SELECT id, 'after-oversized' AS m FROM items"));
    await w.until('the call after it', (a) => a.some((m) => m.id === 3));
    const after = w.answers().find((m) => m.id === 3)!;
    assert.equal(after.result?.isError, undefined, JSON.stringify(after));
    assert.match(after.result!.content![0]!.text!, /after-oversized/);
  } finally {
    w.child.kill('SIGKILL');
  }
  assert.ok(!recordedSql().some((a) => a.includes('oversized-')), 'nothing of the oversized line was recorded or run');
});

test('lines that are not a message are answered with coded JSON-RPC errors, nothing of them runs', async () => {
  const w = await rawWarden();
  const nested = '['.repeat(100_000) + ']'.repeat(100_000);
  try {
    await w.write('{"jsonrpc":"2.0","id":10,"method":"tools/call",\n'); // not JSON
    await w.write(`[${call(11, "SELECT 'batched'").trim()}]\n`); // a batch
    await w.write(`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"query_database","arguments":{"connection":"db","sql":"SELECT 'nested-marker'","x":${nested}}}}\n`);
    await w.write(call({ a: 1 }, "SELECT 'object-id'")); // an id that is an object
    await w.write(call(null, "SELECT 'null-id'"));
    await w.write(call(13, "SELECT 'odd-progress'", { _meta: { progressToken: { x: 1 } } }));
    await w.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: { x: 1 } } }) + '\n'); // an invalid notification: no answer
    await w.write(JSON.stringify({ jsonrpc: '2.0', id: 14, method: 'ping' }) + '\n');
    await w.until('ping and the deep call after the bad lines', (a) => a.some((m) => m.id === 14) && a.some((m) => m.id === 12));
    const errors = w.answers().filter((m) => m.error);
    const byCode = (code: number) => errors.filter((m) => m.error!.code === code);
    assert.equal(byCode(-32700).length, 1, JSON.stringify(errors));
    assert.match(byCode(-32700)[0]!.error!.message, /WARDEN_INVALID_INPUT/);
    const invalid = byCode(-32600);
    assert.equal(invalid.length, 4, JSON.stringify(errors));
    for (const m of invalid) assert.match(m.error!.message, /^WARDEN_INVALID_INPUT: /);
    assert.ok(invalid.some((m) => /batches/.test(m.error!.message)));
    // An id the client could match comes back; one it could not is null.
    assert.deepEqual(invalid.map((m) => m.id).sort(), [13, null, null, null].sort());
    const deep = w.answers().find((m) => m.id === 12)!;
    assert.equal(deep.result?.isError, true, JSON.stringify(deep).slice(0, 300));
    assert.match(deep.result!.content![0]!.text!, /^WARDEN_INVALID_INPUT: arguments nest deeper than 64 levels/);
    assert.match(invalid.find((m) => m.id === 13)!.error!.message, /progressToken/);
  } finally {
    w.child.kill('SIGKILL');
  }
  const args = recordedSql();
  for (const marker of ['batched', 'nested-marker', 'object-id', 'null-id', 'odd-progress']) assert.ok(!args.some((a) => a.includes(marker)), `${marker} did not run`);
});

test('a line that is not UTF-8 is refused (-32700), never read as U+FFFD, and the session serves on', async () => {
  const w = await rawWarden();
  try {
    // A call whose SQL holds a byte that is not UTF-8 (0xFF): decoded leniently, it would run as
    // `SELECT 'bad-utf8-\uFFFD'`, text the agent never sent.
    const [head, tail] = call(20, "SELECT 'bad-utf8-@'").split('@') as [string, string];
    await new Promise<void>((r) => w.child.stdin!.write(Buffer.concat([Buffer.from(head), Buffer.from([0xff]), Buffer.from(tail)]), () => r()));
    await w.write(call(21, "SELECT 'after-bad-utf8' AS m FROM items"));
    await w.until('the call after it', (a) => a.some((m) => m.id === 21));
    const refusal = w.answers().find((m) => m.error?.code === -32700);
    assert.ok(refusal, JSON.stringify(w.answers()));
    assert.equal(refusal.id, null);
    assert.match(refusal.error!.message, /WARDEN_INVALID_INPUT: a line that is not UTF-8/);
    assert.equal(w.answers().some((m) => m.id === 20), false, 'the bad line ran nothing and was not answered as a call');
    assert.match(w.answers().find((m) => m.id === 21)!.result!.content![0]!.text!, /after-bad-utf8/);
  } finally {
    w.child.kill('SIGKILL');
  }
  assert.ok(!recordedSql().some((a) => a.includes('bad-utf8-')), 'nothing of the line was recorded or run');
});

test('a number past 2^53 - 1 in arguments is refused with its call id (JSON.parse rounded it: it ran as another value); exact neighbours run', async () => {
  const w = await rawWarden();
  // The raw line holds the agent's digits: an SDK client (JSON.stringify) could not send them.
  const param = (id: number, p: string) =>
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"query_database","arguments":{"connection":"db","sql":"SELECT $1::text AS v, 'big-${id}' AS m FROM items","params":[${p}]}}}\n`;
  const refused = { 30: '9007199254740993', 31: '-9007199254740993', 32: '12345678901234567890', 33: '1e300' };
  const exact: Record<string, [string, string]> = { 40: ['9007199254740991', '9007199254740991'], 41: ['"9007199254740993"', '9007199254740993'], 42: ['-0', '0'], 43: ['1.5', '1.5'], 44: ['1e3', '1000'] };
  try {
    for (const [id, p] of Object.entries(refused)) await w.write(param(Number(id), p));
    for (const [id, [p]] of Object.entries(exact)) await w.write(param(Number(id), p));
    await w.until('every call', (a) => [...Object.keys(refused), ...Object.keys(exact)].every((id) => a.some((m) => m.id === Number(id))));
    for (const id of Object.keys(refused)) {
      const r = w.answer(Number(id)).result!;
      assert.equal(r.isError, true, JSON.stringify(r));
      assert.match(r.content![0]!.text!, /^WARDEN_INVALID_INPUT: arguments contain a number past 2\^53 - 1 at params\.0 .*send it as a string/);
    }
    for (const [id, [, v]] of Object.entries(exact)) {
      const r = w.answer(Number(id)).result!;
      assert.equal(r.isError, undefined, JSON.stringify(r));
      assert.match(r.content![0]!.text!, new RegExp(`\\n${v}\\tbig-${id}\\n`), JSON.stringify(r));
    }
  } finally {
    w.child.kill('SIGKILL');
  }
  const recorded = recordedSql();
  for (const id of Object.keys(refused)) assert.ok(recorded.some((a) => a.includes(`big-${id}`)), `the refusal of ${id} is recorded`);
});
