/**
 * Forms the named-secret masker did not see (README's "Not seen" list until now): a Secret
 * manifest as YAML flow on one line, a name/value pair with the value first, JSON encoded
 * deeper than the decoder's bound, a YAML Secret inside a JSON string with `\n` escapes. And
 * the false positives of the name rule in ordinary output (`max_tokens=4096`, `tokenizer=bpe`).
 * Each case leaked (or was masked for nothing) before; the cost stays linear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText, secretName } from '../../../tools/shared/secret-text.js';
import { assertLinear } from '../../support/best-of.js';

const leaks = (out: string, values: string[]) => values.filter((v) => out.includes(v));

test('a Secret manifest as one-line YAML flow loses its data and stringData', () => {
  const cases: [string, string][] = [
    ['{apiVersion: v1, kind: Secret, metadata: {name: db}, data: {password: aHVudGVyMg==}}', '{apiVersion: v1, kind: Secret, metadata: {name: db}, data: ***}'],
    ['{kind: Secret, stringData: {token: abc}}', '{kind: Secret, stringData: ***}'],
    ['{kind: Secret, stringData: {k: abc}}', '{kind: Secret, stringData: ***}'],
    ["{kind: 'Secret', data: {k: 'a}b,c'}}", "{kind: 'Secret', data: ***}"],
    ['{data: {k: YWJj}, kind: Secret}', '{data: ***, kind: Secret}'],
    // A List on one line: generous, as on a compact JSON line (the ConfigMap's data goes too).
    ['items: [{kind: Secret, data: {k: aHVudGVyMg==}}, {kind: ConfigMap, data: {k: v}}]', 'items: [{kind: Secret, data: ***}, {kind: ConfigMap, data: ***}]'],
    ['- {kind: Secret, metadata: {name: s}, data: {k: YWJj}}', '- {kind: Secret, metadata: {name: s}, data: ***}'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, text);
  // Not a Secret: a ConfigMap in flow keeps its data, `metadata:` is not `data:`.
  for (const kept of ['{kind: ConfigMap, metadata: {name: s}, data: {k: v}}', '{kind: SecretStore, data: {k: v}}', 'kind: Secret metadata: {k: v}']) {
    assert.equal(maskSecretText(kept), kept);
  }
});

test('a name/value pair with the value before the name is masked; valueFrom is left alone', () => {
  const cases: [string, string][] = [
    ['{"value":"hunter2","name":"DB_PASSWORD"}', '{"value":***,"name":"DB_PASSWORD"}'],
    ['{"value": "hunter2", "name": "DB_PASSWORD"}', '{"value": ***, "name": "DB_PASSWORD"}'],
    ['[{"value":"a,b","name":"API_TOKEN"},{"value":"x","name":"LOG_LEVEL"}]', '[{"value":***,"name":"API_TOKEN"},{"value":"x","name":"LOG_LEVEL"}]'],
    ['- value: hunter2\n  name: DB_PASSWORD', '- value: ***\n  name: DB_PASSWORD'],
    ['env:\n- value: "hunter 2"\n  name: "DB_PASSWORD"\n- value: info\n  name: LOG_LEVEL', 'env:\n- value: ***\n  name: "DB_PASSWORD"\n- value: info\n  name: LOG_LEVEL'],
    ['{value: hunter2, name: DB_PASSWORD}', '{value: ***, name: DB_PASSWORD}'],
    ['{value: "pa,ss", name: DB_PASSWORD}', '{value: ***, name: DB_PASSWORD}'],
    ['{\n  "value": "hunter2",\n  "name": "DB_PASSWORD"\n}', '{\n  "value": ***,\n  "name": "DB_PASSWORD"\n}'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, text);
  const valueFrom = [
    '- valueFrom:',
    '    secretKeyRef:',
    '      name: db',
    '      key: pw',
    '  name: DB_PASSWORD',
    '- name: DB_USER',
    '  valueFrom:',
    '    configMapKeyRef: {name: app, key: user}',
    '- value: info',
    '  name: LOG_LEVEL',
  ].join('\n');
  // The value-first forms take nothing here: `valueFrom:` is not `value:`, and no name is masked
  // (a KeyRef's `key:` is a key name: secret-text-followups.test.ts).
  const out = maskSecretText(valueFrom).split('\n');
  for (const kept of ['- valueFrom:', '    secretKeyRef:', '      name: db', '  name: DB_PASSWORD', '- name: DB_USER', '  valueFrom:', '- value: info', '  name: LOG_LEVEL']) {
    assert.ok(out.includes(kept), kept);
  }
  for (const kept of ['{"valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}},"name":"DB_PASSWORD"}', '{value: 5, name: replicas}']) assert.equal(maskSecretText(kept), kept);
});

/** `{"password":"pw"}` encoded as a JSON string `levels` times, inside `{"log":...}`. */
const encoded = (levels: number, pw: string): string => {
  let s = JSON.stringify({ password: pw });
  for (let i = 0; i < levels; i++) s = JSON.stringify({ msg: s });
  return s;
};

test('JSON encoded deeper than the decoder reads is masked whole at the bound (fail closed)', () => {
  for (let levels = 1; levels <= 6; levels++) {
    const out = maskSecretText(encoded(levels, 'LEAK-deep-pw'));
    assert.deepEqual(leaks(out, ['LEAK-deep-pw', 'LEAK']), [], `${levels}: ${out}`);
    assert.ok(out.startsWith('{"msg":'), out);
  }
  // Within the bound the text stays readable around the value.
  assert.ok(maskSecretText(encoded(3, 'x')).includes('password'));
  // Fail closed: what the bound leaves unread is masked whole, even when it would have been clean.
  const clean = encoded(5, 'kept-within').replace('password', 'level');
  const cleanOut = maskSecretText(clean);
  assert.ok(!cleanOut.includes('kept-within') && cleanOut.includes('***'), cleanOut);
  assert.equal(maskSecretText(encoded(3, 'kept-within').replace('password', 'level')), encoded(3, 'kept-within').replace('password', 'level'));
  // Cut at the output cap inside the deep string: masked to the end of the line, still open.
  const cut = encoded(5, 'LEAK-cut-pw').slice(0, -12);
  const out = maskSecretText(`${cut}\nnext line`);
  assert.deepEqual(leaks(out, ['LEAK']), [], out);
  assert.ok(out.endsWith('\nnext line'), out);
});

test('the new forms stay linear: 256 KB of nested strings, escapes, quotes and value-first pairs', () => {
  const time = (text: string) => {
    const t0 = performance.now();
    maskSecretText(text);
    return performance.now() - t0;
  };
  const K = 1 << 10;
  for (const unit of ['"\\n', '"\\na', '"{\\"a\\":\\"', '\\"\\"\\na', '"a\\tb', '{value: "x{value: \'', 'value: ', '{kind: Secret, data: {']) {
    // Linear is about x4 for x4 the size; quadratic x16 (support/best-of.ts).
    assertLinear(JSON.stringify(unit), (n) => unit.repeat(Math.ceil(n / unit.length)), maskSecretText, { small: 64 * K, maxMs: 5000 });
  }
  // A value of many escapes before a failed `name`: each escape is read one way, not 2^n.
  // So does a quote left open before a newline (form 3 reads to the text's end): 2^n before.
  for (const text of [`{"value":"${'\\a'.repeat(5000)}" x}`, `{value: "${'\\a'.repeat(5000)}" x}`, `{"x":"${'\\a'.repeat(5000)}\nnext`, `{"password":"${'\\a'.repeat(40)}\nnext`]) {
    assert.ok(time(text) < 200, text.slice(0, 20));
  }
  assert.equal(maskSecretText(`{"password":"${'\\a'.repeat(40)}\nnext`), '{"password":***\nnext');
});

test('a YAML Secret or .env text inside a JSON string with \\n escapes is masked', () => {
  const manifest = JSON.stringify({ manifest: 'apiVersion: v1\nkind: Secret\ndata:\n  k: aHVudGVyMg==\n  password: TEVBSw==\n' });
  const out = maskSecretText(manifest);
  assert.deepEqual(leaks(out, ['aHVudGVyMg==', 'TEVBSw==']), [], out);
  assert.equal(out, JSON.stringify({ manifest: 'apiVersion: v1\nkind: Secret\ndata:\n  k: ***\n  password: ***\n' }));
  const env = JSON.stringify({ level: 'info', file: 'LOG=1\nDB_PASSWORD=LEAK-env\nX=2' });
  assert.equal(maskSecretText(env), JSON.stringify({ level: 'info', file: 'LOG=1\nDB_PASSWORD=***\nX=2' }));
  // Ordinary multi-line strings stay as they are.
  const trace = JSON.stringify({ msg: 'boom\n  at f (a.js:1)\n  at g (b.js:2)' });
  assert.equal(maskSecretText(trace), trace);
});

test('counts and sizes beside a secret word are shown; real secrets stay masked', () => {
  const shown = ['max_tokens=4096', 'token_count=5', 'prompt_tokens: 12', '"completion_tokens": 30', 'maxTokens: 4096', 'tokenizer=bpe', 'TOKENIZERS_PARALLELISM=false', 'session_timeout=30', 'active_sessions: 12', 'SESSION_TTL=3600'];
  for (const text of shown) assert.equal(maskSecretText(text), text, text);
  assert.equal(maskSecretText('usage: max_tokens=4096 token_count=5 prompt_tokens: 12'), 'usage: max_tokens=4096 token_count=5 prompt_tokens: 12');
  assert.equal(maskSecretText('max_tokens=4096 api_token=LEAK-t'), 'max_tokens=4096 api_token=***');
  const masked: [string, string][] = [
    ['session_secret=x', 'session_secret=***'],
    ['SESSION_KEY=123456', 'SESSION_KEY=***'],
    ['auth_token=5', 'auth_token=***'],
    ['session_id=abc', 'session_id=***'],
    ['token_count=abc', 'token_count=***'],
    ['max_tokens=4096x', 'max_tokens=***'],
    ['token_count=1234567890123456', 'token_count=***'],
    ['tokenizer_secret=x', 'tokenizer_secret=***'],
  ];
  for (const [text, want] of masked) assert.equal(maskSecretText(text), want, text);
  assert.equal(secretName('tokenizer'), false);
  assert.equal(secretName('tokens'), true);
});
