/**
 * The ambiguous-alternation rule must not refuse what real detectors look like: every pattern the
 * masking code ships (regex literals in src/masking, and
 * every RegExp it builds while loading and compiling a scanner with all built-in detectors) is
 * fed through it, and none is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ambiguousRepeat } from '../../src/masking/pattern-safety.js';
import { REPO_ROOT } from '../support/repo.js';

/**
 * `/source/flags` regex literals written in src/masking: a `/` where an expression starts (after
 * `= ( , : [ ! & | ? ; {` or `return`), read to its closing `/` outside a class, kept when it
 * compiles. Comment lines are skipped. (TypeScript 7 ships no parser API to ask instead.)
 */
function literals(): { where: string; source: string; flags: string }[] {
  const dir = join(REPO_ROOT, 'src', 'masking');
  const out: { where: string; source: string; flags: string }[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    readFileSync(join(dir, name), 'utf8').split('\n').forEach((line, n) => {
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

/** Every RegExp src/masking builds (vendor tokens, key bodies, the scanner's prechecks) while it loads and compiles a full scanner. */
async function constructed(): Promise<{ where: string; source: string; flags: string }[]> {
  const out: { where: string; source: string; flags: string }[] = [];
  const Real = RegExp;
  globalThis.RegExp = new Proxy(Real, {
    construct(target, args, newTarget) {
      const re = Reflect.construct(target, args, newTarget) as RegExp;
      const at = /\/src\/masking\/([\w-]+\.js:\d+)/.exec(new Error().stack ?? '');
      if (at && !at[1]!.startsWith('pattern-safety')) out.push({ where: at[1]!, source: re.source, flags: re.flags });
      return re;
    },
  });
  try {
    const { compileScanner, DETECTOR_NAMES } = await import('../../src/masking/index.js');
    compileScanner({ detectors: [...DETECTOR_NAMES] });
  } finally {
    globalThis.RegExp = Real;
  }
  return out;
}

test('no pattern the masking code ships is refused as an ambiguous repeat', async () => {
  const lits = literals();
  const built = await constructed();
  assert.ok(lits.length >= 20, `found ${lits.length} regex literals`);
  assert.ok(built.length >= 10, `found ${built.length} constructed patterns`);
  for (const { where, source, flags } of [...lits, ...built]) {
    assert.equal(ambiguousRepeat(source, flags), null, `${where}: /${source}/${flags}`);
  }
});
