/**
 * withinBytesQuota on each output kind, with a real limiter: what fits is sent and charged whole,
 * a table keeps its first rows and text its first characters (with a note) up to what is left,
 * a JSON document that does not fit is refused, and the charge is what was sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { responseBytes, withinBytesQuota } from '../../src/pipeline/bytes-quota.js';
import { createRateLimiter } from '../../src/pipeline/rate-limit.js';
import { renderOutput } from '../../src/pipeline/render.js';
import type { Principal, ToolOutput } from '../../src/tool-api.js';

const ana: Principal = { subject: 'ana', groups: [], claims: {}, authMethod: 'stdio' };
const render = (o: ToolOutput) => renderOutput(o, {});

test('text is cut to the characters the bytes quota has left, never inside a surrogate pair', () => {
  const rl = createRateLimiter(() => ({ bytes_per_hour: 200 }));
  const t = rl.admit(ana);
  const text = `${'a'.repeat(100)}${'\u{1F600}'.repeat(100)}`;
  const r = withinBytesQuota({ kind: 'text', streams: { stdout: text }, exitCode: 0, truncated: false }, render, t);
  const sent = responseBytes(r.response);
  assert.ok(sent <= 200, `${sent} bytes sent`);
  assert.match(r.response.content[0]!.text, /note: cut to \d+ of 300 characters: the bytes-per-hour quota is used up/);
  assert.equal(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(r.response.content[0]!.text), false, 'no lone surrogate');
  assert.equal(t.bytesLeft(), 200 - sent, 'what was sent is charged');
  t.release();
});

test('a table that fits is sent whole and charged; a JSON document that does not fit is refused', () => {
  const rl = createRateLimiter(() => ({ bytes_per_hour: 100 }));
  const t = rl.admit(ana);
  const table: ToolOutput = { kind: 'table', columns: [{ name: 'n' }], rows: [[1], [2]], rowCount: 2, truncated: false };
  const r = withinBytesQuota(table, render, t);
  assert.equal(r.output, table);
  assert.equal(t.bytesLeft(), 100 - responseBytes(r.response));
  assert.throws(() => withinBytesQuota({ kind: 'json', data: { x: 'y'.repeat(200) }, truncated: false }, render, t), (e: { code?: string }) => e.code === 'WARDEN_RATE_LIMITED');
  assert.equal(t.bytesLeft(), 100 - responseBytes(r.response), 'a refusal charges nothing');
  t.release();
});
