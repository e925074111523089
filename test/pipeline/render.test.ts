import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderError, renderOutput } from '../../src/pipeline/render.js';
import { WardenError, ErrorCode } from '../../src/errors.js';
import { STAGES } from '../../src/pipeline/stages.js';

test('tables render as tab-separated text with escapes and NULL, plus structured rows', () => {
  const r = renderOutput(
    { kind: 'table', columns: [{ name: 'a' }, { name: 'b', masked: 'partial' }], rows: [['x\ty\nz\\', null], [1, { k: 2 }]], rowCount: 2, truncated: true },
    { call_id: 'c1' },
  );
  assert.equal(r.content[0]!.text, 'a\tb\nx\\ty\\nz\\\\\tNULL\n1\t{"k":2}\n(2 rows, truncated)');
  assert.deepEqual((r.structuredContent as { rows: unknown[][] }).rows[0], ['x\ty\nz\\', null]);
  assert.deepEqual((r.structuredContent as { columns: unknown[] }).columns[1], { name: 'b', masked: 'partial' });
  assert.equal(r.isError, undefined);
});

test('plain rows (strings needing no escape, numbers) render exactly as cell-by-cell rendering does', () => {
  const rows: unknown[][] = [
    ['a', 'b c', ''], [1, -0, 1e21], [NaN, 'x', 2.5], ['tab\there', 'ok', 'x'], ['cr\r', 'back\\slash', 'nl\n'],
    ['x', null, 'y'], [true, 'x', 'y'], ['\u{1F600}', '\u00e9', 'z'], [undefined, 'a', 'b'],
  ];
  const cell = (v: unknown): string =>
    typeof v === 'string' ? v.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!) : v === null || v === undefined ? 'NULL' : String(v);
  const r = renderOutput({ kind: 'table', columns: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], rows, rowCount: rows.length, truncated: false }, {});
  const want = ['a\tb\tc', ...rows.map((row) => row.map(cell).join('\t')), `(${rows.length} rows)`].join('\n');
  assert.equal(r.content[0]!.text, want);
  assert.ok(r.content[0]!.text.includes('tab\\there\tok'), 'an escaped row keeps its escapes');
  assert.ok(r.content[0]!.text.includes('\n1\t0\t1e+21\n'), 'numbers render as String() renders them');
});

test('writes render their command tag and affected rows', () => {
  const r = renderOutput({ kind: 'table', columns: [], rows: [], rowCount: 0, truncated: false, affected: 3, command: 'UPDATE' }, {});
  assert.equal(r.content[0]!.text, 'UPDATE 3');
});

test('errors carry the code, the rules and the alternatives, as text and structured content', () => {
  const r = renderError(new WardenError(ErrorCode.DENIED, 'no rule allows this call', { ruleIds: ['r1'], alternatives: ['r2: select on public.t'] }), { call_id: 'c' });
  assert.equal(r.isError, true);
  assert.match(r.content[0]!.text, /^WARDEN_DENIED: no rule allows this call\nrule: r1\nyou may instead use:\n {2}- r2/);
  assert.deepEqual((r.structuredContent as { error: { rule_ids: string[] } }).error.rule_ids, ['r1']);
});

test('error messages are scrubbed of credentials', () => {
  const e = new WardenError(ErrorCode.BACKEND, 'cannot connect to postgres://warden:s3cret@db/x (password=hunter2)');
  assert.ok(!e.message.includes('s3cret') && !e.message.includes('hunter2'), e.message);
});

test('the pipeline stages are the ordered list of DESIGN.md', () => {
  assert.deepEqual([...STAGES], ['authenticate', 'validate', 'parse', 'decide', 'approve', 'record-intent', 'execute', 'mask', 'record-outcome', 'respond']);
});

test('notes reach the agent and the structured content (which the transcript stores) for every output kind', () => {
  const table = renderOutput({ kind: 'table', columns: [{ name: 'a' }], rows: [[1]], rowCount: 1, truncated: false, notes: ['2 rows withheld'] }, {});
  assert.equal(table.content[0]!.text, 'a\n1\n(1 row)\nnote: 2 rows withheld');
  assert.deepEqual((table.structuredContent as { notes?: string[] }).notes, ['2 rows withheld']);
  const text = renderOutput({ kind: 'text', streams: { stdout: 'partial', stderr: '' }, exitCode: null, truncated: false, notes: ['the command was ended by signal KILL'] }, {});
  assert.equal(text.content[0]!.text, '[stdout]\npartial\nnote: the command was ended by signal KILL');
  assert.deepEqual((text.structuredContent as { notes?: string[] }).notes, ['the command was ended by signal KILL']);
  const json = renderOutput({ kind: 'json', data: { x: 1 }, truncated: false, notes: ['n'] }, {});
  assert.deepEqual((json.structuredContent as { notes?: string[] }).notes, ['n']);
  const none = renderOutput({ kind: 'text', streams: { stdout: 'ok' }, exitCode: 0, truncated: false }, {});
  assert.equal(none.content[0]!.text, 'ok\n(exit code 0)');
  assert.equal('notes' in (none.structuredContent as object), false);
});
