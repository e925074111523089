/**
 * YAML that the `yaml` library accepts but that would not load as written (another YAML version,
 * unknown tags, keys that change on load, `__proto__`, alias bombs and cycles, invisible
 * characters, invalid UTF-8, huge files) is refused with a coded ConfigError at its line, for
 * warden.yaml, policies and policy tests alike (they share readYamlSource).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, readYamlSource } from '../../src/config/yaml-source.js';

/** Problems as `LINE: message`; [] when the text loads. Anything but a ConfigError fails the test. */
function problems(text: string, file = '/p/policy.yaml'): string[] {
  try {
    readYamlSource(file, text);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a coded ConfigError, not ${String(e)}`);
    assert.equal(e.code, 'WARDEN_CONFIG');
    return e.problems.map((p) => `${p.line}: ${p.message}`);
  }
}
const data = (text: string): unknown => readYamlSource('/p/policy.yaml', text).data;

test('a %YAML 1.1 file is refused: it would read no/off as false, 1:30 as 90 and merge <<', () => {
  assert.match(problems('%YAML 1.1\n---\nwait: 1:30\n').join('\n'), /^1: %YAML 1\.1 is not supported/);
  assert.match(problems('%YAML 1.1\n---\nwho: { groups: [no] }\n').join('\n'), /YAML 1\.2 only/);
  assert.deepEqual(data('%YAML 1.2\n---\nwho: { groups: [no, off] }\n'), { who: { groups: ['no', 'off'] } }, 'explicit 1.2 loads');
  assert.deepEqual(data('who: { groups: [no, off, yes, on] }\nwait: 1:30\n'), { who: { groups: ['no', 'off', 'yes', 'on'] }, wait: '1:30' }, '1.2 keeps them strings');
});

test('unknown and YAML 1.1 tags are refused instead of loading as plain text or odd objects', () => {
  assert.match(problems('rules:\n  - effect: !!js/function deny\n').join('\n'), /^2: YAML: Unresolved tag/);
  assert.match(problems('x: !custom deny\n').join('\n'), /Unresolved tag/);
  assert.match(problems('who: { groups: !!set { sre, dba } }\n').join('\n'), /Unresolved tag/);
  assert.match(problems('k: !!binary aGk=\n').join('\n'), /Unresolved tag/);
  assert.match(problems('%TAG !e! tag:example.com,2000:\n---\na: !e!x y\n').join('\n'), /Unresolved tag/);
  assert.deepEqual(data('who: { groups: [!!str no, !!str 012] }\n'), { who: { groups: ['no', '012'] } }, 'core tags still work');
});

test('keys that would load as another string are refused: numbers, booleans, null, collections, aliases', () => {
  assert.match(problems('connections:\n  01: { type: postgres }\n').join('\n'), /^2: key 01 is a number, not a string \(it would load as "1"\)/);
  assert.match(problems('a:\n  true: x\n').join('\n'), /key true is a boolean/);
  assert.match(problems('a:\n  ~: x\n').join('\n'), /is null/);
  assert.match(problems('a:\n  : x\n').join('\n'), /is null/);
  assert.match(problems('? [a, b]\n: 1\n').join('\n'), /a key must be a plain string, not a collection/);
  assert.match(problems('k: &k x\n*k : y\n').join('\n'), /not the alias \*k/);
  // `1` and "1" are different YAML keys (so uniqueKeys lets both through) but one JS key: the second won.
  assert.notDeepEqual(problems('claims:\n  1: a\n  "1": b\n'), []);
  assert.deepEqual(data('connections:\n  "01": { type: postgres }\n'), { connections: { '01': { type: 'postgres' } } }, 'a quoted key loads');
});

test('__proto__ and << keys are refused (a record would drop the entry; YAML 1.2 does not merge)', () => {
  assert.match(problems('rules:\n  - who: { claims: { __proto__: [org/app] } }\n').join('\n'), /^2: key __proto__ is refused/);
  assert.match(problems('connections:\n  __proto__: { type: postgres, url: env:X }\n').join('\n'), /__proto__/);
  assert.match(problems('base: &b { effect: deny }\nrule: { <<: *b, id: x }\n').join('\n'), /^2: merge keys \(<<\) are not supported/);
});

test('alias bombs, cycles and unknown aliases are coded errors; ordinary anchors still load', () => {
  let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++) bomb += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
  assert.match(problems(bomb).join('\n'), /once aliases are expanded/);
  assert.match(problems('a: &a [x, *a]\n').join('\n'), /^1: alias \*a is inside its own anchor/);
  assert.match(problems('a: &a { b: { c: *a } }\n').join('\n'), /cycle/);
  assert.match(problems('a: 1\nb: *nope\n').join('\n'), /^2: alias \*nope names no anchor/);
  assert.match(problems('a: &x [sre]\nb: &x [everyone]\nc: *x\n').join('\n'), /^2: anchor &x is defined twice \(first at line 1\)/);
  // One `who` shared by 80 rules is what anchors are for (the library's own limit refused it uncoded).
  const shared = 'x: &sre { groups: [sre] }\nrules:\n' + Array.from({ length: 80 }, (_, i) => `  - { id: r${i}, who: *sre }\n`).join('');
  const rules = (data(shared) as { rules: { who: unknown }[] }).rules;
  assert.equal(rules.length, 80);
  assert.deepEqual(rules[79]!.who, { groups: ['sre'] });
});

test('nesting deeper than any policy is refused, also when only aliases make it deep', () => {
  assert.match(problems('a: ' + '['.repeat(100) + ']'.repeat(100) + '\n').join('\n'), /nesting deeper than 64 levels/);
  let chain = 'l0: &l0 [x]\n';
  for (let i = 1; i < 70; i++) chain += `l${i}: &l${i} [*l${i - 1}]\n`;
  assert.match(problems(chain).join('\n'), /nesting deeper than 64 levels \(aliases expanded\)/);
  assert.doesNotThrow(() => readYamlSource('/p.yaml', 'a: ' + '['.repeat(20) + ']'.repeat(20) + '\n'));
  assert.notDeepEqual(problems('['.repeat(20_000)), [], 'a parser stack overflow is still a ConfigError');
});

test('invisible and control characters are refused at their line; escapes are the way to write them', () => {
  assert.match(problems('rules:\n  - who: { groups: [sre\u202e] }\n').join('\n'), /^2: invisible or control character U\+202E/);
  assert.match(problems('a: 1\n# looks harmless \u200b\n').join('\n'), /^2: invisible or control character U\+200B/);
  assert.match(problems('a: x\u0007y\n').join('\n'), /U\+0007/);
  assert.match(problems('a: x\u2028y\n').join('\n'), /U\+2028/);
  assert.deepEqual(data('\ufeffa: "x\\u200by"\n'), { a: 'x\u200by' }, 'a leading BOM and an escape load');
});

test('files: invalid UTF-8 and oversize files are refused; multiple documents and duplicate keys stay refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-yaml-'));
  const latin1 = join(dir, 'latin1.yaml');
  writeFileSync(latin1, Buffer.concat([Buffer.from('rules: []\nwho: { groups: ['), Buffer.from([0xe9]), Buffer.from('quipe] }\n')])); // "équipe" in Latin-1
  assert.throws(() => readYamlSource(latin1), (e: unknown) => e instanceof ConfigError && /^2: not valid UTF-8/.test(e.problems.map((p) => `${p.line}: ${p.message}`).join('\n')));
  const big = join(dir, 'big.yaml');
  writeFileSync(big, 'rules: []\n# ' + 'x'.repeat(1024 * 1024) + '\n');
  assert.throws(() => readYamlSource(big), (e: unknown) => e instanceof ConfigError && /larger than 1048576 bytes/.test(e.message));
  assert.match(problems('rules: []\n---\nrules: []\n').join('\n'), /multiple documents/);
  assert.match(problems('effect: deny\neffect: allow\n').join('\n'), /^2: YAML syntax: Map keys must be unique/);
});
