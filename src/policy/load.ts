/**
 * Load and compile policy files once; the result is immutable and swapped atomically on reload.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConditionSpec } from '../tool-api.js';
import { ConfigError, readYamlSource, validateSource, type ConfigProblem } from '../config/yaml-source.js';
import { policyFileSchema } from './schema.js';
import type { CompiledPolicy, CompiledRule } from './types.js';

/** Normalise `users.email` / `"Public".users.email` to `public.users.email` (unquoted names fold). */
export function normaliseColumnName(name: string): string {
  const parts = name.split('.').map((p) => (p.startsWith('"') && p.endsWith('"') ? p.slice(1, -1) : p.toLowerCase()));
  return (parts.length === 2 ? ['public', ...parts] : parts).join('.');
}

/** Compile policy files (text may be supplied for tests); throws ConfigError with FILE:LINE problems. */
export function compilePolicy(files: string[], conditions: ConditionSpec[], texts: Record<string, string> = {}): CompiledPolicy {
  const schema = policyFileSchema(conditions);
  const problems: ConfigProblem[] = [];
  const rules: CompiledRule[] = [];
  const columns = new Map<string, string>();
  const detectors = new Set<string>();
  const custom: { name: string; pattern: string }[] = [];
  let onDerived: 'deny' | 'mask' = 'deny';
  const hash = createHash('sha256');
  const seen = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = texts[file] ?? readFileSync(file, 'utf8');
    } catch {
      problems.push({ file, line: 0, path: '', message: 'cannot read policy file', severity: 'error' });
      continue;
    }
    hash.update(file).update('\0').update(text).update('\0');
    let src;
    try {
      src = readYamlSource(file, text);
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
      continue;
    }
    const { value, problems: p } = validateSource(src, schema);
    problems.push(...p);
    if (!value) continue;
    if (value.masking) {
      for (const c of value.masking.columns) columns.set(normaliseColumnName(c.column), c.with);
      for (const d of value.masking.detectors) detectors.add(d);
      custom.push(...value.masking.custom);
      if (value.masking.on_derived === 'mask') onDerived = 'mask';
    }
    value.rules.forEach((raw, i) => {
      const r = raw as Record<string, unknown> & (typeof value.rules)[number];
      const line = src.lineOf(['rules', i]);
      const prev = seen.get(r.id);
      if (prev) problems.push({ file, line, path: `rules.${i}.id`, message: `duplicate rule id "${r.id}" (first defined at ${prev})`, severity: 'error' });
      seen.set(r.id, `${file}:${line}`);
      const conds: CompiledRule['conditions'] = [];
      const blocks: Record<string, unknown> = {};
      for (const spec of conditions) {
        if (r[spec.key] === undefined) continue;
        blocks[spec.key] = r[spec.key];
        try {
          conds.push({ key: spec.key, families: spec.families, fn: spec.compile(r[spec.key], { id: r.id, effect: r.effect }), describe: spec.describe?.(r[spec.key]) });
        } catch (e) {
          problems.push({ file, line: src.lineOf(['rules', i, spec.key]), path: `rules.${i}.${spec.key}`, message: (e as Error).message, severity: 'error' });
        }
      }
      rules.push({
        id: r.id,
        effect: r.effect,
        who: r.who,
        tools: r.tool,
        on: r.on,
        reason: r.reason,
        approval: r.approval,
        ...(r.limits ? { limits: r.limits } : {}),
        conditions: conds,
        blocks,
        file,
        line,
      });
    });
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    version: hash.digest('hex').slice(0, 16),
    rules,
    masking: { columns: [...columns].map(([column, strategy]) => ({ column, strategy })), detectors: [...detectors], custom, onDerived },
    files,
  };
}
