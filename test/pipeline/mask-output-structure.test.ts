/**
 * The mask stage over the shapes a tool really returns: PostgreSQL's driver parses json/jsonb
 * cells into objects (keys and nesting chosen by whoever wrote the data) and bytea into Buffers;
 * Kubernetes answers are JSON; every output may carry notes. Nothing of a secret may pass, in a
 * key, a deep leaf, a byte array, a bigint or a note, and the report never carries matched text.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maskOutput } from '../../src/pipeline/mask-output.js';
import { renderOutput } from '../../src/pipeline/render.js';
import { DETECTOR_NAMES, compileScanner } from '../../src/masking/index.js';
import type { ToolOutput } from '../../src/tool-api.js';

const scanner = compileScanner({ detectors: [...DETECTOR_NAMES] });
const EMAIL = 'alice@example.com';

function cell(value: unknown): ToolOutput {
  return { kind: 'table', columns: [{ name: 'doc' }], rows: [[value]], rowCount: 1, truncated: false };
}

function rowsOf(out: ToolOutput): unknown[][] {
  assert.equal(out.kind, 'table');
  return (out as { rows: unknown[][] }).rows;
}

/** Everything the agent and the transcript would see: the rendered text and structured content. */
function seen(out: ToolOutput): string {
  const r = renderOutput(out, {});
  return JSON.stringify(r.content) + JSON.stringify(r.structuredContent, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

describe('mask stage: structure', () => {
  it('masks object keys, in table cells and in JSON results', () => {
    const t = maskOutput(cell({ [EMAIL]: { role: 'admin' }, ok: 1 }), scanner);
    assert.deepEqual(rowsOf(t.output)[0], [{ '[email]': { role: 'admin' }, ok: 1 }]);
    assert.equal(t.report.detectors.email, 1);
    const j = maskOutput({ kind: 'json', data: { items: [{ labels: { 'bob@example.com': 'x' } }] }, truncated: false }, scanner);
    assert.deepEqual((j.output as { data: unknown }).data, { items: [{ labels: { '[email]': 'x' } }] });
  });

  it('keys masked alike stay separate entries (no entry is lost to a collision)', () => {
    const j = maskOutput({ kind: 'json', data: { [EMAIL]: 1, 'bob@example.com': 2, '[email]': 3 }, truncated: false }, scanner);
    assert.deepEqual((j.output as { data: unknown }).data, { '[email]': 1, '[email]#2': 2, '[email]#3': 3 });
  });

  it('nesting past the depth limit is redacted whole, never passed on raw', () => {
    for (const depth of [33, 40, 100, 5000]) {
      let deep: unknown = `mail ${EMAIL}`;
      for (let i = 0; i < depth; i++) deep = i % 2 ? [deep] : { k: deep };
      const t = maskOutput(cell(deep), scanner);
      assert.doesNotMatch(seen(t.output), /alice/, `depth ${depth}`);
      const j = maskOutput({ kind: 'json', data: deep, truncated: false }, scanner);
      assert.doesNotMatch(seen(j.output), /alice/, `json depth ${depth}`);
    }
  });

  it('a cycle ends at the depth limit instead of looping or leaking', () => {
    const a: Record<string, unknown> = { note: `mail ${EMAIL}` };
    a.self = a;
    const t = maskOutput(cell(a), scanner);
    assert.doesNotMatch(seen(t.output), /alice/);
  });

  it('bigint cells and leaves holding a card number are masked', () => {
    const t = maskOutput(cell(4111111111111111n), scanner);
    assert.deepEqual(rowsOf(t.output)[0], ['[credit_card]']);
    const j = maskOutput({ kind: 'json', data: { n: 4111111111111111n, small: 7n }, truncated: false }, scanner);
    assert.deepEqual((j.output as { data: unknown }).data, { n: '[credit_card]', small: 7n });
    assert.equal(j.report.detectors.credit_card, 1);
  });

  it('byte arrays (bytea as Buffer) are read as text; a secret inside is masked', () => {
    const t = maskOutput(cell(Buffer.from(`contact ${EMAIL} soon`)), scanner);
    const out = rowsOf(t.output)[0]?.[0];
    assert.doesNotMatch(seen(t.output), /alice|97,108,105,99,101/, 'neither the text nor its byte values');
    assert.equal(out, `\\x${Buffer.from('contact [email] soon').toString('hex')}`);
    assert.equal(t.report.detectors.email, 1);
    const u16 = maskOutput(cell(new Uint16Array([...`x ${EMAIL}`].map((c) => c.charCodeAt(0)))), scanner);
    assert.doesNotMatch(seen(u16.output), /alice/);
    const plain = Buffer.from('nothing here');
    const p = maskOutput(cell(plain), scanner);
    assert.equal(rowsOf(p.output)[0]?.[0], plain, 'bytes without a finding stay as they were');
    assert.deepEqual(p.report.detectors, {});
  });

  it('dates in JSON and table results keep their value (not turned into {})', () => {
    const when = new Date('2024-03-11T00:00:00Z');
    const t = maskOutput(cell({ at: when }), scanner);
    assert.equal((rowsOf(t.output)[0]?.[0] as { at: unknown }).at, when);
    const j = maskOutput({ kind: 'json', data: { at: when }, truncated: false }, scanner);
    assert.equal(((j.output as { data: { at: unknown } }).data).at, when);
  });

  it('an object that serialises itself (toJSON) is masked as what it serialises to', () => {
    const sneaky = { toJSON: () => ({ contact: EMAIL }) };
    const t = maskOutput({ kind: 'json', data: { row: sneaky }, truncated: false }, scanner);
    assert.doesNotMatch(seen(t.output), /alice/);
  });

  it('notes are scanned in every kind of output', () => {
    const note = `row owner ${EMAIL}`;
    const kinds: ToolOutput[] = [
      { kind: 'table', columns: [{ name: 'a' }], rows: [['x']], rowCount: 1, truncated: false, notes: [note] },
      { kind: 'text', streams: { stdout: 'ok' }, exitCode: 0, truncated: false, notes: [note] },
      { kind: 'json', data: {}, truncated: false, notes: [note] },
    ];
    for (const out of kinds) {
      const r = maskOutput(out, scanner);
      assert.doesNotMatch(seen(r.output), /alice/, out.kind);
      assert.deepEqual(r.output.notes, ['row owner [email]']);
      assert.equal(r.report.detectors.email, 1);
    }
  });

  it('stdout and stderr are both scanned', () => {
    const r = maskOutput({ kind: 'text', streams: { stdout: `a ${EMAIL}`, stderr: 'b AKIAIOSFODNN7EXAMPLE' }, exitCode: 1, truncated: false }, scanner);
    assert.deepEqual((r.output as { streams: unknown }).streams, { stdout: 'a [email]', stderr: 'b [aws_access_key]' });
  });

  it('the report says what kinds were masked and how often, never the text, its length or place', () => {
    const secrets = [EMAIL, '4111111111111111', 'AKIAIOSFODNN7EXAMPLE', 'postgres://app:s3cr3t@db/app'];
    const r = maskOutput(
      { kind: 'table', columns: [{ name: 'note' }, { name: 'ssn', masked: 'redact' }], rows: secrets.map((s) => [`x ${s} y`, '[REDACTED]']), rowCount: 4, truncated: false },
      scanner,
    );
    assert.deepEqual(r.report, { columns: ['ssn:redact'], detectors: { email: 1, credit_card: 1, aws_access_key: 1, password_in_url: 1 } });
    const json = JSON.stringify(r.report);
    for (const s of ['alice', '4111', 'AKIA', 's3cr3t']) assert.ok(!json.includes(s), s);
  });

  it('a scanner without maskInto (scan only) still reaches keys, bytes and notes', () => {
    const scanOnly = { scan: (text: string) => scanner.scan(text) };
    const r = maskOutput({ kind: 'json', data: { [EMAIL]: Buffer.from(EMAIL) }, truncated: false, notes: [EMAIL] }, scanOnly);
    assert.doesNotMatch(seen(r.output), /alice/);
    assert.equal(r.report.detectors.email, 3);
  });
});
