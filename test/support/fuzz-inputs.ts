/**
 * Seeded hostile JSON-RPC inputs for the transport fuzz tests (fuzz-stdio, fuzz-http) and the
 * oracle every answer to them must pass. Why shared: both transports take the same messages, and
 * a case that found a bug stays in one corpus replayed by both.
 */
import assert from 'node:assert/strict';
import { mulberry32 } from './prng.js';

/** One fuzz case: the raw bytes of one message (a line over stdio, a body over HTTP) and its label. */
export interface FuzzCase {
  label: string;
  bytes: Buffer;
  /** The id of a request in it the server must answer (an answer, never silence), if any. */
  answerId?: string | number;
}

/** A seeded source of choices. */
export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
}

/** A seeded Rng (mulberry32); the same seed replays the same corpus. */
export function rngOf(seed: number): Rng {
  const next = mulberry32(seed);
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}

const enc = (s: string) => Buffer.from(s, 'utf8');
const call = (id: unknown, name: string, args: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...extra } });

/** Raw JSON text for a number the JSON encoder could not write (1e400, -0, huge integers). */
const RAW_NUMBERS = ['1e400', '-1e400', '-0', '0.0', '1.5', '-1', '9007199254740993', '1e-400', '123456789012345678901234567890', '0e0'];
const NUMBERISH = ['"NaN"', '"Infinity"', '"-Infinity"', '"1e400"', '"-0"', 'null', 'true', '[]', '{}', '"0x10"'];
const BAD_IDS = ['null', 'true', 'false', '{}', '[]', '{"a":1}', '[1]', ...RAW_NUMBERS, `"${'i'.repeat(70_000)}"`];
const METHODS = ['tools/cal', 'TOOLS/CALL', 'tools/call ', 'rpc.discover', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'tools/list/', 'resources/read', 'prompts/get', 'completion/complete', 'logging/setLevel', 'sampling/createMessage', 'notifications/initialized', 'tasks/get', 'x'.repeat(5000)];
const TOOL_NAMES = ['query_database ', ' query_database', 'query_database\t', 'QUERY_DATABASE', 'query\u200bdatabase', 'query_databas\u0435', 'ｑｕｅｒｙ_database', 'query_database\u0000', 'query_database\u202e', 'query-database', '__proto__', 'constructor', 'toString', '', 'query_database\n', 'list_connections\u00a0', 'q'.repeat(10_000)];
const WRONG_PARAMS = ['[]', '"x"', '1', 'true', '[{"name":"query_database"}]', '{"name":1}', '{"name":null}', '{"name":{}}', '{"name":["query_database"]}', '{"name":"query_database","arguments":[]}', '{"name":"query_database","arguments":"SELECT 1"}', '{"name":"query_database","arguments":1}', '{"name":"query_database","arguments":{"connection":1,"sql":[]}}', '{"name":"query_database","arguments":{"connection":"db","sql":{"toString":"SELECT 1"}}}', '{"name":"query_database","_meta":"x"}', '{"name":"query_database","_meta":{"progressToken":[]}}', '{"name":"query_database","_meta":{"progressToken":1e400}}'];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString'];

/** A deeply nested JSON value, `depth` levels of objects or arrays. */
function nested(rng: Rng, depth: number): string {
  const arr = rng.next() < 0.5;
  return (arr ? '['.repeat(depth) : '{"a":'.repeat(depth)) + '1' + (arr ? ']'.repeat(depth) : '}'.repeat(depth));
}

/** Invalid UTF-8 byte sequences (lone continuation, overlong, encoded surrogate, 0xFF, truncated). */
const BAD_UTF8 = [[0xff], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xfe, 0xfe]];

/**
 * `count` cases from `seed`. `sql` is a statement the principal may run on `connection`; `maxBody`
 * is the transport's body limit (http.max_body_bytes), for cases near and over it.
 */
export function fuzzCorpus(seed: number, count: number, connection: string, sql: string, maxBody: number): FuzzCase[] {
  const rng = rngOf(seed);
  const good = (id: unknown) => call(id, 'query_database', { connection, sql });
  const gens: ((i: number) => FuzzCase)[] = [
    (i) => {
      const text = good(`t${i}`);
      return { label: 'truncated JSON', bytes: enc(text.slice(0, 1 + rng.int(text.length - 2))) };
    },
    () => ({ label: 'not JSON', bytes: enc(rng.pick(['{', '}', '[', 'nul', '{"jsonrpc":"2.0",}', "{'a':1}", '{"a":1}}', 'undefined', '\u0000', '{"jsonrpc":"2.0","id":1,"method":"ping"', '\ufeff{"jsonrpc":"2.0","id":"bom","method":"ping"}'])) }),
    (i) => {
      const text = enc(good(`u${i}`));
      const at = text.indexOf('SELECT') + 1 + rng.int(4);
      return { label: 'invalid UTF-8', bytes: Buffer.concat([text.subarray(0, at), Buffer.from(rng.pick(BAD_UTF8)), text.subarray(at)]) };
    },
    (i) => {
      const n = rng.int(4);
      const items = Array.from({ length: n }, (_, k) => (rng.next() < 0.5 ? good(`b${i}-${k}`) : '{"jsonrpc":"2.0","method":"notifications/initialized"}'));
      return { label: `batch of ${n}`, bytes: enc(`[${items.join(',')}]`) };
    },
    () => ({ label: 'bad id', bytes: enc(good('__ID__').replace('"__ID__"', rng.pick(BAD_IDS))) }),
    (i) => ({ label: 'unknown method', bytes: enc(JSON.stringify({ jsonrpc: '2.0', id: `m${i}`, method: rng.pick(METHODS), params: {} })), answerId: `m${i}` }),
    () => ({ label: 'params of a wrong type', bytes: enc(`{"jsonrpc":"2.0","id":"p","method":"tools/call","params":${rng.pick(WRONG_PARAMS)}}`) }),
    (i) => ({ label: 'deep arguments', bytes: enc(`{"jsonrpc":"2.0","id":"d${i}","method":"tools/call","params":{"name":"query_database","arguments":{"connection":"${connection}","sql":"SELECT 1","x":${nested(rng, rng.pick([65, 200, 5000, 50_000]))}}}}`), answerId: `d${i}` }),
    (i) => {
      const key = rng.pick(PROTO_KEYS);
      const where = rng.int(3);
      const body = where === 0
        ? `{"jsonrpc":"2.0","id":"k${i}","method":"tools/call","params":{"name":"query_database","arguments":{"connection":"${connection}","sql":${JSON.stringify(sql)},"${key}":{"sql":"SELECT 2","polluted":true}}}}`
        : where === 1
          ? `{"jsonrpc":"2.0","id":"k${i}","method":"tools/call","${key}":{"x":1},"params":{"${key}":{"name":"list_connections"},"name":"query_database","arguments":{"connection":"${connection}","sql":${JSON.stringify(sql)}}}}`
          : `{"jsonrpc":"2.0","id":"k${i}","method":"tools/call","params":{"name":"query_database","_meta":{"${key}":{"progressToken":1}},"arguments":{"connection":"${connection}","sql":${JSON.stringify(sql)}}}}`;
      return { label: `${key} key`, bytes: enc(body), answerId: `k${i}` };
    },
    (i) => {
      const over = rng.pick([-64, -1, 0, 1, 64]);
      const frame = enc(call(`l${i}`, 'query_database', { connection, sql: `SELECT '' AS x` })).length;
      const pad = Math.max(0, maxBody - frame + over);
      const body = call(`l${i}`, 'query_database', { connection, sql: `SELECT '${'x'.repeat(pad)}' AS x` });
      return { label: `long string (${over >= 0 ? '+' : ''}${over} vs the limit)`, bytes: enc(body), ...(over < 0 ? { answerId: `l${i}` } : {}) };
    },
    (i) => ({ label: 'odd numbers in arguments', bytes: enc(`{"jsonrpc":"2.0","id":"n${i}","method":"tools/call","params":{"name":"query_database","arguments":{"connection":"${connection}","sql":${JSON.stringify(sql)},"max_rows":${rng.pick([...RAW_NUMBERS, ...NUMBERISH])}}}}`), answerId: `n${i}` }),
    (i) => ({ label: 'tool name variant', bytes: enc(call(`v${i}`, rng.pick(TOOL_NAMES), { connection, sql })), answerId: `v${i}` }),
    (i) => ({ label: 'notification with an id', bytes: enc(JSON.stringify({ jsonrpc: '2.0', id: `x${i}`, method: rng.pick(['notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed']), params: { requestId: 'nope', progressToken: 1, progress: 1 } })) }),
    (i) => ({ label: 'second initialize', bytes: enc(JSON.stringify({ jsonrpc: '2.0', id: `i${i}`, method: 'initialize', params: { protocolVersion: rng.pick(['2025-11-25', '1999-01-01', '', 7]), capabilities: rng.pick([{}, null, []]), clientInfo: { name: 'again', version: '1' } } })), answerId: `i${i}` }),
    () => ({ label: 'cancel of an unknown id', bytes: enc(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: rng.pick(['nope', 12345, -1, '', 'p1']), reason: 'r'.repeat(rng.int(3000)) } })) }),
    () => ({ label: 'unsolicited response', bytes: enc(rng.pick(['{"jsonrpc":"2.0","id":"zz","result":{}}', '{"jsonrpc":"2.0","id":0,"error":{"code":1,"message":"x"}}', '{"jsonrpc":"2.0","id":null,"result":null}', '{"jsonrpc":"2.0","result":{}}'])) }),
    (i) => ({ label: 'wrong jsonrpc field', bytes: enc(`{"jsonrpc":${rng.pick(['"1.0"', '2', 'null', '"2.0 "'])},"id":"j${i}","method":"ping"}`) }),
  ];
  return Array.from({ length: count }, (_, i) => gens[i % gens.length]!(i));
}

/** Text that must never reach an agent: stack frames and file paths, plus what the test adds (config secrets). */
const LEAKS = [/\n\s+at [^\n]*[(:]/, /\/(?:work|tmp|home|usr|root|var)\//, /node_modules/, /\.(?:ts|js|mjs):\d+/, /\bat (?:async )?[\w.<>]+ \([^)]*:\d+:\d+\)/];

/**
 * The oracle of one answer: a JSON-RPC error with a numeric code and a WARDEN_* message, or a
 * result (a tool error's text starts with its WARDEN_* code); no stack, path or any of `secrets`.
 */
export function assertCodedAnswer(m: Record<string, any>, secrets: string[], label: string): void {
  const text = JSON.stringify(m);
  for (const re of LEAKS) assert.doesNotMatch(text, re, `${label}: the answer leaks: ${text.slice(0, 600)}`);
  for (const s of secrets) assert.equal(text.includes(s), false, `${label}: the answer carries a config secret: ${text.slice(0, 600)}`);
  if (m.error !== undefined) {
    assert.equal(typeof m.error.code, 'number', `${label}: ${text.slice(0, 400)}`);
    assert.match(String(m.error.message), /WARDEN_[A-Z_]+/, `${label}: an uncoded JSON-RPC error: ${text.slice(0, 400)}`);
    return;
  }
  assert.ok(m.result !== undefined, `${label}: neither a result nor an error: ${text.slice(0, 400)}`);
  if (m.result?.isError === true) {
    const first = String(m.result.content?.[0]?.text ?? '');
    assert.match(first, /^WARDEN_[A-Z_]+/, `${label}: an uncoded tool error: ${text.slice(0, 400)}`);
  }
}
