/**
 * The backtracking rules custom detectors must pass (nestedRepeat, ambiguousRepeat, splitRepeat)
 * must not refuse what real detectors look like, and the built-in patterns must be safe by the
 * same measure: every pattern the masking code and the tools' secret masking ship (regex literals
 * in src/masking and tools/shared, every RegExp src/masking builds while loading and compiling a
 * scanner with all built-in detectors, and every RegExp tools/shared builds while loading) is fed
 * through them, and none is refused.
 *
 * warden-test: solo. It sees the patterns modules build while they load, so it needs a process
 * where no other test file loaded them first (scripts/test-groups.mjs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ambiguousRepeat, nestedRepeat, splitRepeat } from '../../src/masking/pattern-safety.js';
import { REPO_ROOT } from '../support/repo.js';

/**
 * `/source/flags` regex literals written in src/masking and tools/shared: a `/` where an expression starts (after
 * `= ( , : [ ! & | ? ; {` or `return`), read to its closing `/` outside a class, kept when it
 * compiles. Comment lines are skipped. (TypeScript 7 ships no parser API to ask instead.)
 */
function literals(): { where: string; source: string; flags: string }[] {
  const out: { where: string; source: string; flags: string }[] = [];
  const files = [join('src', 'masking'), join('tools', 'shared')].flatMap((dir) => readdirSync(join(REPO_ROOT, dir)).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)));
  for (const name of files) {
    readFileSync(join(REPO_ROOT, name), 'utf8').split('\n').forEach((line, n) => {
      if (/^\s*(\/\/|\/?\*)/.test(line)) return;
      for (const m of line.matchAll(/(?:[=(,:[!&|?;{]|\breturn)\s*\//g)) {
        let i = m.index + m[0].length;
        let inClass = false;
        const from = i;
        for (; i < line.length && (line[i] !== '/' || inClass); i++) {
          if (line[i] === '\\') i++;
          else if (line[i] === '[') inClass = true;
          else if (line[i] === ']') inClass = false;
        }
        const source = line.slice(from, i);
        const flags = /^[dgimsuy]*/.exec(line.slice(i + 1))![0];
        try {
          new RegExp(source, flags);
        } catch {
          continue;
        }
        if (i < line.length && source) out.push({ where: `${name}:${n + 1}`, source, flags });
      }
    });
  }
  return out;
}

/** Every RegExp src/masking builds (vendor tokens, key bodies, the scanner's prechecks) while it loads and compiles a full scanner, and tools/shared while it loads. */
async function constructed(): Promise<{ where: string; source: string; flags: string }[]> {
  const out: { where: string; source: string; flags: string }[] = [];
  const Real = RegExp;
  globalThis.RegExp = new Proxy(Real, {
    construct(target, args, newTarget) {
      const re = Reflect.construct(target, args, newTarget) as RegExp;
      const at = /\/((?:src\/masking|tools\/shared)\/[\w-]+\.js:\d+)/.exec(new Error().stack ?? '');
      if (at && !at[1]!.includes('pattern-safety')) out.push({ where: at[1]!, source: re.source, flags: re.flags });
      return re;
    },
  });
  try {
    const { compileScanner, DETECTOR_NAMES } = await import('../../src/masking/index.js');
    compileScanner({ detectors: [...DETECTOR_NAMES] });
    await import('../../tools/shared/secret-text.js'); // loads nested-secrets, secret-manifests, credential-flags
  } finally {
    globalThis.RegExp = Real;
  }
  return out;
}

test('no pattern the masking code or the tools\' secret masking ships is refused by a backtracking rule', async () => {
  const lits = literals();
  const built = await constructed();
  assert.ok(lits.length >= 20, `found ${lits.length} regex literals`);
  assert.ok(built.length >= 10, `found ${built.length} constructed patterns`);
  for (const dir of ['src/masking/', 'tools/shared/']) assert.ok(built.some((b) => b.where.startsWith(dir)) || lits.some((l) => l.where.startsWith(dir)), dir);
  const all = [...lits, ...built];
  const refused = all.flatMap(({ where, source, flags }) => {
    const why = [['ambiguousRepeat', ambiguousRepeat(source, flags)], ['splitRepeat', splitRepeat(source, flags)]].filter(([, hit]) => hit);
    return why.length ? [`${where}: /${source}/${flags}: ${why.map(([rule, hit]) => `${rule} ${hit}`).join(', ')}`] : [];
  });
  assert.deepEqual(refused, []);
  // nestedRepeat is the blunt rule: any unbounded quantifier in a group repeated without bound.
  // These built-ins have that shape yet read one way (splitRepeat, the exact test, passes them):
  // each iteration starts with a character the inner run cannot hold (a line break, a `.`, a
  // `,` outside quotes: the members between a secret name and its value, secret-text.ts, where a
  // quoted value ends at its first unescaped quote); secret-text-followups.test.ts times them.
  // The two `(?:name|value)` ones are the same members between a value and its name (value-first
  // pairs, secret-text.ts VALUE_FIRST): one way to read them for the same reason, and a member
  // named `value` ends the look so no two starts read the same members;
  // secret-text-followups2.test.ts times them. The `(?:\\[^\n][^"\\\n]*)*` one is a double-quoted
  // value's escapes run over lines (secret-text.ts MULTILINE_QUOTED): each iteration starts with
  // a backslash, which the run after it cannot hold; secret-text-multiline-quotes.test.ts times it.
  // The config-secrets.ts one is a PHP variable's subscripts (`$cfg['db']['password'] = ...`):
  // each iteration starts with `[`, which no subscript's inside can hold, and ends at its `]`;
  // shell-secret-files.test.ts times it. The xml-secrets.ts ones are a tag's attributes: each
  // iteration starts with a blank, which no name can hold, and its quoted value ends at its
  // quote; xml-secrets.test.ts reads long runs of them.
  const nested = all.filter(({ source }) => nestedRepeat(source)).map(({ where, source }) => `${where.replace(/:\d+$/, '')}: ${nestedRepeat(source)}`);
  assert.deepEqual([...new Set(nested)].sort(), [
    'src/masking/key-body.js: (?:[ \\t]*(?:\\r?\\n|(?:\\\\r)?\\\\n)[ \\t]*[A-Za-z0-9+/]{4,}={0,2}(?![A-Za-z0-9+/=]))*',
    'src/masking/vendor-tokens.js: (?:\\.[A-Za-z0-9_-]+)*',
    `tools/shared/config-secrets.js: (?:\\[[ \\t]*(?:'[^'\\n]*'|"[^"\\n]*"|\\$?\\w+)[ \\t]*\\])*?`,
    `tools/shared/secret-text.js: (?:[ \\t]*,[ \\t]*(?!(?:name|value):)[A-Za-z_][\\w.-]*:[ \\t]+(?:"(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*'|[^\\n,{}\\[\\]"' \\t](?:[^\\n,{}\\[\\]]*[^\\n,{}\\[\\] \\t])?))*?`,
    `tools/shared/secret-text.js: (?:[ \\t]*,[ \\t]*(?!name:)[A-Za-z_][\\w.-]*:[ \\t]+(?:"(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*'|[^\\n,{}\\[\\]"' \\t](?:[^\\n,{}\\[\\]]*[^\\n,{}\\[\\] \\t])?))*?`,
    'tools/shared/secret-text.js: (?:\\\\[^\\n][^"\\\\\\n]*)*',
    'tools/shared/secret-text.js: (?:\\s*,\\s*"(?!(?:name|value)")[^"\\\\\\n]*"\\s*:\\s*(?:"(?:[^"\\\\\\n]|\\\\.)*"|[^\\s,{}\\[\\]"]+))*?',
    'tools/shared/secret-text.js: (?:\\s*,\\s*"(?!name")[^"\\\\\\n]*"\\s*:\\s*(?:"(?:[^"\\\\\\n]|\\\\.)*"|[^\\s,{}\\[\\]"]+))*?',
    `tools/shared/xml-secrets.js: (?:\\s+(?:[A-Za-z_][\\w.-]*:)?[A-Za-z_][\\w.-]*\\s*=\\s*(?:"[^"]*"|'[^']*'))*`,
    `tools/shared/xml-secrets.js: (?:\\s+(?:[A-Za-z_][\\w.-]*:)?[A-Za-z_][\\w.-]*\\s*=\\s*(?:"[^"]*"|'[^']*'))+`,
  ]);
});
