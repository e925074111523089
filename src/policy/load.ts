/**
 * Load and compile policy files once; the result is immutable and swapped atomically on reload.
 */
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConditionSpec } from '../tool-api.js';
import { ConfigError, readYamlSource, readYamlText, validateSource, type ConfigProblem, type YamlSource } from '../config/yaml-source.js';
import { CUSTOM_DETECTOR_NAME, policyFileSchema } from './schema.js';
import type { CompiledPolicy, CompiledRule } from './types.js';
import { normaliseColumnName } from './sql-names.js';

/** Normalise `users.email` / `"Public".users.email` to `public.users.email` (SQL identifier rules; sql-names.ts). */
export { normaliseColumnName } from './sql-names.js';

/**
 * Name checks for `masking:` entries, supplied by the caller. Why injected: the masking module
 * owns strategy and detector names, and src/policy may not import it (DESIGN.md layering); the
 * loader still runs them entry by entry so each problem gets its own FILE:LINE. Each returns
 * why the value is wrong, or null.
 */
export interface MaskingChecks {
  /** A column's `with:` strategy. */
  strategy(name: string): string | null;
  /** One name in `detectors:`. */
  detector(name: string): string | null;
  /** One `custom:` detector (its name's shape is already checked by the schema). */
  custom(detector: { name: string; pattern: string }): string | null;
}

/** Compile policy files (text may be supplied for tests); throws ConfigError with FILE:LINE problems. */
export function compilePolicy(files: string[], conditions: ConditionSpec[], texts: Record<string, string> = {}, checks?: MaskingChecks): CompiledPolicy {
  const schema = policyFileSchema(conditions);
  const problems: ConfigProblem[] = [];
  const customSeen = new Map<string, string>();
  const rules: CompiledRule[] = [];
  const columns = new Map<string, { strategy: string; at: string }>();
  let derivedSaid: { value: string; at: string } | undefined;
  const detectors = new Set<string>();
  const custom: { name: string; pattern: string }[] = [];
  let onDerived: 'deny' | 'mask' = 'deny';
  const hash = createHash('sha256');
  const seen = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = Object.hasOwn(texts, file) ? texts[file]! : readYamlText(file);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems.map((p) => (p.message.startsWith('cannot read file') ? { ...p, message: `cannot read policy file${p.message.slice('cannot read file'.length)}` } : p)));
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
    if (src.empty) {
      // An editor that truncates before it writes, or a file emptied by mistake, must not load as "no rules"
      // (a reload would drop its deny rules); a file meant to hold none says so.
      problems.push({ file, line: 1, path: '', message: 'policy file is empty (write `rules: []` for a file with no rules)', severity: 'error' });
      continue;
    }
    const { value, problems: p } = validateSource(src, schema, { quoteValues: true });
    problems.push(...p);
    problems.push(...maskingProblems(src, checks, customSeen));
    if (!value) continue;
    if (value.masking) {
      value.masking.columns.forEach((c, i) => {
        // One column, one strategy: a second entry (here or in another file) must not quietly replace the first.
        const name = normaliseColumnName(c.column);
        const at = `${file}:${src.lineOf(['masking', 'columns', i])}`;
        const first = columns.get(name);
        if (!first) columns.set(name, { strategy: c.with, at });
        else if (first.strategy !== c.with) problems.push({ file, line: src.lineOf(['masking', 'columns', i, 'with']), path: `masking.columns.${i}.with`, message: `column ${name} is masked with "${first.strategy}" at ${first.at}; a second strategy "${c.with}" is ambiguous (one entry per column)`, severity: 'error' });
      });
      const said = (src.data as { masking?: { on_derived?: unknown } }).masking?.on_derived;
      if (typeof said === 'string') {
        const at = `${file}:${src.lineOf(['masking', 'on_derived'])}`;
        if (derivedSaid && derivedSaid.value !== said) problems.push({ file, line: src.lineOf(['masking', 'on_derived']), path: 'masking.on_derived', message: `on_derived: ${said} contradicts on_derived: ${derivedSaid.value} at ${derivedSaid.at} (it applies to every file: say it once)`, severity: 'error' });
        derivedSaid ??= { value: said, at };
      }
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
      const common = conds.slice(1).reduce((acc, c) => acc.filter((f) => c.families.includes(f)), conds[0]?.families ?? []);
      if (conds.length > 1 && !common.length) {
        // Every block must judge the call, and no call is judged by all of these: the rule could never
        // match (a deny meant as "no DROP and no rm" in one rule denied nothing).
        const blocks = conds.map((c) => `${c.key}: judges ${c.families.join('/')} calls`).join(', ');
        problems.push({ file, line, path: `rules.${i}`, message: `can never match: ${blocks}, and no call is of all of them (write one rule per block)`, severity: 'error' });
      }
      rules.push({
        id: r.id,
        effect: r.effect,
        who: r.who,
        tools: r.tool,
        on: r.on,
        reason: r.reason,
        approval: r.approval ? policyRelativeRefs(r.approval, file) : r.approval,
        ...(r.limits ? { limits: r.limits } : {}),
        conditions: conds,
        blocks,
        file,
        line,
      });
    });
  }
  // In file order, then by line (schema, rule and masking problems were collected separately).
  if (problems.length) throw new ConfigError(problems.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line));
  return {
    version: hash.digest('hex').slice(0, 16),
    rules,
    masking: { columns: [...columns].map(([column, m]) => ({ column, strategy: m.strategy })), detectors: [...detectors], custom, onDerived },
    files,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Masking names that load but would fail later (unknown strategy or detector, a custom pattern
 * that does not compile, a custom name defined twice, also across files), each at its own line.
 * Reads the raw document, so a schema error elsewhere in the file does not hide them; entries of
 * the wrong type are left to the schema's own message.
 */
function maskingProblems(src: YamlSource, checks: MaskingChecks | undefined, customSeen: Map<string, string>): ConfigProblem[] {
  const masking = isObject(src.data) ? src.data.masking : undefined;
  if (!isObject(masking)) return [];
  const out: ConfigProblem[] = [];
  const report = (path: (string | number)[], message: string | null): void => {
    if (message) out.push({ file: src.file, line: src.lineOf(path), path: path.join('.'), message, severity: 'error' });
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  list(masking.columns).forEach((c, i) => {
    if (checks && isObject(c) && typeof c.with === 'string') report(['masking', 'columns', i, 'with'], checks.strategy(c.with));
  });
  list(masking.detectors).forEach((d, i) => {
    if (checks && typeof d === 'string') report(['masking', 'detectors', i], checks.detector(d));
  });
  list(masking.custom).forEach((c, i) => {
    if (!isObject(c) || typeof c.name !== 'string' || typeof c.pattern !== 'string' || !CUSTOM_DETECTOR_NAME.test(c.name)) return;
    const here = `${src.file}:${src.lineOf(['masking', 'custom', i, 'name'])}`;
    const first = customSeen.get(c.name);
    if (first) return report(['masking', 'custom', i, 'name'], `custom detector "${c.name}" is defined twice (first at ${first})`);
    customSeen.set(c.name, here);
    if (checks) report(['masking', 'custom', i, 'pattern'], checks.custom({ name: c.name, pattern: c.pattern }));
  });
  return out;
}

/**
 * Relative paths inside a config file resolve against that file's folder (POLICY.md): a
 * `file:` webhook (or webhook signing secret) reference written in a policy file is made absolute against the policy file's
 * folder here, before the secret resolver (which knows only warden.yaml's folder) sees it.
 */
function policyRelativeRefs<T extends { notify?: { webhook: string; secret?: string | undefined } }>(approval: T, file: string): T {
  const n = approval.notify;
  if (!n) return approval;
  const abs = (ref: string) => (ref.startsWith('file:') && !isAbsolute(ref.slice('file:'.length)) ? `file:${resolve(dirname(file), ref.slice('file:'.length))}` : ref);
  const webhook = abs(n.webhook);
  const secret = n.secret === undefined ? undefined : abs(n.secret);
  if (webhook === n.webhook && secret === n.secret) return approval;
  return { ...approval, notify: { ...n, webhook, ...(secret === undefined ? {} : { secret }) } };
}
