import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskOutput } from '../../src/pipeline/mask-output.js';
import { compileScanner } from '../../src/masking/index.js';
import type { ToolOutput } from '../../src/tool-api.js';

const table = (rows: unknown[][], fixed: boolean): ToolOutput => ({
  kind: 'table',
  columns: [{ name: 'note' }, { name: 'at', ...(fixed ? { fixedFormat: true } : {}) }],
  rows,
  rowCount: rows.length,
  truncated: false,
});

test('free-text cells are scanned; a fixed-format column skips the built-in detectors', () => {
  const scanner = compileScanner({ detectors: ['email', 'credit_card'] });
  // A string that the credit-card detector would flag, placed in both kinds of column.
  const card = '4111 1111 1111 1111';
  const free = maskOutput(table([[card, card]], false), scanner);
  assert.deepEqual((free.output as { rows: unknown[][] }).rows[0], ['[credit_card]', '[credit_card]']);
  assert.equal(free.report.detectors.credit_card, 2);
  const fixed = maskOutput(table([[card, card]], true), scanner);
  assert.deepEqual((fixed.output as { rows: unknown[][] }).rows[0], ['[credit_card]', card]);
  assert.equal(fixed.report.detectors.credit_card, 1);
});

test('custom detectors still run on fixed-format columns (an author may aim them at dates)', () => {
  const scanner = compileScanner({ detectors: ['email'], custom: [{ name: 'birthday', pattern: '19\\d\\d-\\d\\d-\\d\\d' }] });
  const r = maskOutput(table([['born 1980-02-03', '1980-02-03'], ['a@example.com', '2026-01-01']], true), scanner);
  assert.deepEqual((r.output as { rows: unknown[][] }).rows, [['born [custom:birthday]', '[custom:birthday]'], ['[email]', '2026-01-01']]);
  assert.deepEqual(r.report.detectors, { 'custom:birthday': 2, email: 1 });
});

test('a scanner without a custom-only form scans fixed-format cells in full', () => {
  const scanner = { scan: (t: string): { text: string; hits: Record<string, number> } => (t.includes('x') ? { text: 'MASKED', hits: { k: 1 } } : { text: t, hits: {} }) };
  const r = maskOutput(table([['x', 'x']], true), scanner);
  assert.deepEqual((r.output as { rows: unknown[][] }).rows[0], ['MASKED', 'MASKED']);
  assert.equal(r.report.detectors.k, 2);
});

test('table rows are masked in place, numbers and nulls pass untouched, nested JSON is scanned', () => {
  const scanner = compileScanner({ detectors: ['email'] });
  const rows: unknown[][] = [[1, null, 'mail b@example.org', { contact: 'c@example.net' }], [2, true, 'u***@example.com', 'nothing']];
  const out: ToolOutput = { kind: 'table', columns: ['id', 'ok', 'note', 'doc'].map((name) => ({ name })), rows, rowCount: 2, truncated: false };
  const r = maskOutput(out, scanner);
  assert.equal((r.output as { rows: unknown[][] }).rows, rows, 'the same row arrays, not a copy');
  assert.deepEqual(rows, [[1, null, 'mail [email]', { contact: '[email]' }], [2, true, 'u***@example.com', 'nothing']]);
  assert.equal(r.report.detectors.email, 2, 'a partially masked address (u***@…) is not an address');
});

test('a card number held as a number (float8, JSON) is scanned as text; ordinary numbers are left alone', () => {
  const scanner = compileScanner({ detectors: ['credit_card'] });
  const out: ToolOutput = {
    kind: 'table',
    columns: ['n', 'big', 'doc'].map((name) => ({ name })),
    rows: [[42, 4111111111111111, { card: 4111111111111111, qty: 3 }], [1.5, 1234567890123, null]],
    rowCount: 2,
    truncated: false,
  };
  const r = maskOutput(out, scanner);
  assert.deepEqual((r.output as { rows: unknown[][] }).rows, [[42, '[credit_card]', { card: '[credit_card]', qty: 3 }], [1.5, 1234567890123, null]]);
  assert.equal(r.report.detectors.credit_card, 2);
});

test('a column-masked text repeated down a result is scanned once, and every occurrence is masked and counted', () => {
  const real = compileScanner({ detectors: ['email', 'aws_access_key'] });
  const seen: string[] = [];
  const scanner = { scan: real.scan, maskInto: (t: string, h: Record<string, number>): string => (seen.push(t), real.maskInto(t, h)) };
  // What partial leaves of addresses at one domain (one hiding a key in it), plus a free-text column.
  const rows: unknown[][] = [
    ['u***@example.com', 'a'], ['u***@AKIAIOSFODNN7EXAMPLE.io', 'a'], ['u***@example.com', 'a'],
    ['u***@AKIAIOSFODNN7EXAMPLE.io', 'a'], ['u***@AKIAIOSFODNN7EXAMPLE.io', 'a'],
  ];
  const out: ToolOutput = { kind: 'table', columns: [{ name: 'email', masked: 'partial' }, { name: 'note' }], rows, rowCount: 5, truncated: false };
  const r = maskOutput(out, scanner);
  assert.deepEqual(rows.map((x) => x[0]), ['u***@example.com', 'u***@[aws_access_key].io', 'u***@example.com', 'u***@[aws_access_key].io', 'u***@[aws_access_key].io']);
  assert.deepEqual(r.report.detectors, { aws_access_key: 3 });
  assert.deepEqual(seen.filter((t) => t.startsWith('u***')), ['u***@example.com', 'u***@AKIAIOSFODNN7EXAMPLE.io'], 'one scan per distinct masked text');
  assert.equal(seen.filter((t) => t === 'a').length, 5, 'free-text columns are scanned cell by cell');
});

test('a column-masked column of mostly distinct texts is still masked and counted cell by cell', () => {
  const scanner = compileScanner({ detectors: ['email', 'aws_access_key'] });
  // 200 distinct texts (past the point where remembering stops), then repeats of the first ones.
  const key = (i: number) => `u***@AKIA${String(i).padStart(16, '0')}.io`;
  const rows: unknown[][] = [...Array.from({ length: 200 }, (_, i) => [key(i)]), ...Array.from({ length: 50 }, (_, i) => [key(i)]), ['u***@example.com']];
  const out: ToolOutput = { kind: 'table', columns: [{ name: 'email', masked: 'partial' }], rows, rowCount: rows.length, truncated: false };
  const r = maskOutput(out, scanner);
  assert.ok(rows.slice(0, 250).every((x) => x[0] === 'u***@[aws_access_key].io'));
  assert.equal(rows[250]![0], 'u***@example.com');
  assert.deepEqual(r.report.detectors, { aws_access_key: 250 });
});
