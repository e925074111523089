/**
 * `warden policy check` beyond the schema: mistakes that load fine but do not do what the
 * admin meant (unknown names, rules that can never match, allows shadowed by denies, masks no
 * grant reaches, overly broad grants, and what a family's own `lint` hook finds in its blocks).
 * Every finding is FILE:LINE with the offending key.
 */
import type { ConnectionConfig, GovernedTool, ToolFamily } from '../tool-api.js';
import { readYamlSource, type ConfigProblem, type YamlSource } from '../config/yaml-source.js';
import { closest } from '../config/key-hints.js';
import { normaliseColumnName } from './load.js';
import { blockTables, denyBlockCovers, trustedFunctionBodies, unusableFunctions } from './lint-blocks.js';
import { caseVariantNames, lookalikeNames, patternNames, perTokenClaims } from './lint-names.js';
import type { CompiledPolicy, CompiledRule } from './types.js';
import type { Who } from './schema.js';

/** What the linter needs to know about the deployment. */
export interface LintInput {
  policy: CompiledPolicy;
  connections: ConnectionConfig[];
  /** Each family with the tools it creates (instantiated offline). */
  families: { family: ToolFamily; tools: GovernedTool<any, any>[] }[];
  /** Built-in tools (not governed by rules), e.g. list_connections. */
  builtins: string[];
}

type Key = (string | number)[];

/** `did you mean "x"? ` for a misspelt name, else nothing. */
const meant = (name: string, known: string[]): string => {
  const m = closest(name, known);
  return m === undefined ? '' : `did you mean "${m}"? `;
};

function sameOrSuper(outer: string[] | undefined, inner: string[] | undefined): boolean {
  if (!outer) return true; // omitted = any
  if (!inner) return false;
  return inner.every((x) => outer.includes(x));
}

/** Does deny `who` cover every principal allow `who` covers? */
function whoCovers(d: Who | undefined, a: Who | undefined): boolean {
  const empty = (w: Who | undefined) => !w || (!w.subjects?.length && !w.groups?.length && !w.claims && !w.actors);
  if (empty(d)) return true;
  if (empty(a) || d!.claims || d!.actors) return JSON.stringify(d) === JSON.stringify(a);
  const subjectsOk = !a!.subjects?.length || sameOrSuper(d!.subjects ?? [], a!.subjects);
  const groupsOk = !a!.groups?.length || sameOrSuper(d!.groups ?? [], a!.groups);
  return subjectsOk && groupsOk;
}

/** Lint a compiled policy; returns errors and warnings (the caller decides the exit code). */
export function lintPolicy(input: LintInput): ConfigProblem[] {
  const { policy } = input;
  const problems: ConfigProblem[] = [];
  const sources = new Map<string, YamlSource>();
  const srcOf = (file: string): YamlSource | undefined => {
    if (!sources.has(file)) {
      try {
        sources.set(file, readYamlSource(file));
      } catch {
        return undefined;
      }
    }
    return sources.get(file);
  };
  // Index of each rule inside its own file, for key-level lines.
  const indexOf = new Map<CompiledRule, number>();
  const perFile = new Map<string, number>();
  for (const r of policy.rules) {
    const i = perFile.get(r.file) ?? 0;
    indexOf.set(r, i);
    perFile.set(r.file, i + 1);
  }
  const at = (r: CompiledRule, key: Key, message: string, severity: 'error' | 'warning') => {
    const i = indexOf.get(r)!;
    const full = ['rules', i, ...key];
    problems.push({ file: r.file, line: srcOf(r.file)?.lineOf(full) ?? r.line, path: full.join('.'), message: `rule ${r.id}: ${message}`, severity });
  };
  const listKey = (r: CompiledRule, key: 'tool' | 'on', j: number): Key => {
    const raw = (srcOf(r.file)?.data as { rules?: Record<string, unknown>[] } | undefined)?.rules?.[indexOf.get(r)!]?.[key];
    return Array.isArray(raw) ? [key, j] : [key];
  };

  const toolFamily = new Map<string, ToolFamily>();
  const toolByName = new Map<string, GovernedTool<any, any>>();
  for (const f of input.families) for (const t of f.tools) (toolFamily.set(t.name, f.family), toolByName.set(t.name, t));
  const governed = [...toolByName.keys()];
  const connByName = new Map(input.connections.map((c) => [c.name, c]));
  const toolsForKey = (key: string) => governed.filter((t) => toolFamily.get(t)!.conditions.some((c) => c.key === key));
  const specOf = (key: string) => input.families.flatMap((f) => f.family.conditions).find((c) => c.key === key);

  for (const r of policy.rules) {
    // Unknown or built-in tools.
    const knownTools = (r.tools ?? governed).filter((t) => toolByName.has(t));
    r.tools?.forEach((t, j) => {
      if (input.builtins.includes(t)) at(r, listKey(r, 'tool', j), `${t} is a built-in tool; rules do not govern it, so this entry has no effect`, 'warning');
      else if (!toolByName.has(t)) at(r, listKey(r, 'tool', j), `unknown tool "${t}" (${meant(t, governed)}known: ${governed.join(', ')})`, 'error');
    });
    // Condition blocks that cannot judge the rule's tools.
    let reachable = knownTools;
    let blocksDead = false;
    const blocks = r.conditions.filter((c, i, all) => all.findIndex((x) => x.key === c.key) === i);
    for (const c of blocks) {
      const judged = toolsForKey(c.key);
      const before = reachable;
      reachable = reachable.filter((t) => judged.includes(t));
      if (before.length && !reachable.length) {
        at(r, [c.key], `can never match: a ${c.key}: block judges ${judged.join(', ') || 'no tool'}, not ${before.join(', ')}`, 'error');
        blocksDead = true;
        break;
      }
    }
    // Unknown connections, and connections no tool the rule can reach serves: the tools it lists,
    // or with a condition block the tools that block judges (`on: [web-1]` with `sql:` and no
    // `tool:` judges only query_database, which never runs on an SSH host).
    const narrowed = !!r.tools || blocks.length > 0;
    const serving = narrowed && !blocksDead ? reachable : [];
    const servedBy = blocks.length && !r.tools ? `the ${blocks.map((c) => c.key + ':').join(', ')} block${blocks.length > 1 ? 's judge' : ' judges'} only ${serving.join(', ')}, which serve${serving.length > 1 ? '' : 's'}` : `${serving.join(', ')} serve`;
    r.on?.forEach((c, j) => {
      const conn = connByName.get(c);
      if (!conn) return at(r, listKey(r, 'on', j), `unknown connection "${c}" (${meant(c, [...connByName.keys()])}configured: ${[...connByName.keys()].join(', ') || 'none'})`, 'error');
      if (serving.length && !serving.some((t) => toolByName.get(t)!.connectionTypes?.includes(conn.type))) {
        at(r, listKey(r, 'on', j), `can never match on ${c}: it is a ${conn.type} connection and ${servedBy} ${[...new Set(serving.flatMap((t) => toolByName.get(t)!.connectionTypes ?? []))].join(', ') || 'no connections'}`, 'error');
      }
    });
    // Names that read as another name (mixed scripts).
    for (const f of lookalikeNames(r)) at(r, f.key, f.message, 'warning');
    // Names written as patterns: a deny's who (not its reviewers) then misses whom it meant, so that is an error.
    for (const f of patternNames(r)) at(r, f.key, f.message, r.effect === 'deny' && f.key[0] === 'who' ? 'error' : 'warning');
    // Claims no principal carries (dead-denies.ts refuses such a deny).
    for (const f of perTokenClaims(r)) at(r, f.key, f.message, 'error');
    // A deny naming people and agents together needs both (like claims:), which reads as "either".
    if (r.effect === 'deny' && r.who?.actors?.length && (r.who.subjects?.length || r.who.groups?.length)) {
      at(r, ['who', 'actors'], 'this deny matches only a call whose principal is in subjects/groups AND whose actor chain names one of actors (subjects alone already reach every actor); to deny either, write two rules', 'warning');
    }
    if (r.effect !== 'allow') continue;
    // An approval anyone but the requester may give.
    if (r.approval && !(r.approval.reviewers?.subjects?.length || r.approval.reviewers?.groups?.length || (r.approval.reviewers?.claims && Object.keys(r.approval.reviewers.claims).length))) {
      at(r, ['approval'], 'approval without reviewers: any principal but the requester may approve it from the CLI, and no token holder becomes a UI reviewer through it (name reviewers: subjects, groups or claims)', 'warning');
    }
    // Overly broad grants.
    if (!r.who || (!r.who.subjects?.length && !r.who.groups?.length && !r.who.claims && !r.who.actors)) {
      at(r, r.who ? ['who'] : [], 'allow without who: it grants every principal (give subjects, groups or claims)', 'warning');
    }
    const bearing = knownTools.filter((t) => toolByName.get(t)!.connectionTypes !== null);
    if (bearing.length && r.conditions.length === 0) {
      const keys = [...new Set(bearing.flatMap((t) => toolFamily.get(t)!.conditions.map((c) => c.key)))];
      if (keys.length) at(r, [], `allow on ${bearing.join(', ')} without a condition block (${keys.map((k) => k + ':').join(', ')}): it grants everything`, 'warning');
    }
    // Functions the grant can never use.
    for (const c of blocks) {
      for (const u of unusableFunctions(c.key, rawBlock(srcOf(r.file), indexOf.get(r)!, c.key), c.fn, c.families)) {
        at(r, [c.key, 'functions', u.index], `function ${u.name} can never be used by this grant: ${u.why}`, 'warning');
      }
    }
    // Functions outside pg_catalog a grant names, under column masks: trusted, their bodies' reads unmasked.
    for (const c of policy.masking.columns.length ? blocks : []) {
      for (const t of trustedFunctionBodies(c.key, rawBlock(srcOf(r.file), indexOf.get(r)!, c.key))) {
        at(r, [c.key, 'functions', t.index], `function ${t.name} lies outside pg_catalog and column masks are configured: naming it trusts it, and Warden does not read a function's body, so its body's reads are returned without column masks (name only functions whose results may be seen whole)`, 'warning');
      }
    }
    // What the family itself knows a block grants beyond its appearance (e.g. secret keys).
    for (const c of blocks) {
      for (const w of specOf(c.key)?.lint?.(rawBlock(srcOf(r.file), indexOf.get(r)!, c.key)) ?? []) at(r, [c.key, ...w.key], w.message, 'warning');
    }
    // Shadowed by a deny.
    for (const d of policy.rules) {
      if (d.effect !== 'deny' || !whoCovers(d.who, r.who) || !sameOrSuper(d.tools, r.tools) || !sameOrSuper(d.on, r.on)) continue;
      const covered = d.conditions.every((dc) => {
        if (!r.conditions.some((ac) => ac.key === dc.key)) return false;
        return denyBlockCovers(dc.key, rawBlock(srcOf(d.file), indexOf.get(d)!, dc.key), rawBlock(srcOf(r.file), indexOf.get(r)!, dc.key));
      });
      if (covered) {
        at(r, [], `shadowed by deny rule ${d.id} (${d.file}:${d.line}): every call it allows is denied (deny wins)`, 'warning');
        break;
      }
    }
  }
  // The same subject or group in two cases, where one is matched exactly.
  const where = (r: CompiledRule, key: Key) => `${r.file}:${srcOf(r.file)?.lineOf(['rules', indexOf.get(r)!, ...key]) ?? r.line}`;
  for (const f of caseVariantNames(policy.rules, where)) at(f.rule, f.key, f.message, 'warning');
  problems.push(...lintMasking(policy, srcOf, indexOf));
  return problems;
}

function rawBlock(src: YamlSource | undefined, index: number, key: string): unknown {
  return (src?.data as { rules?: Record<string, unknown>[] } | undefined)?.rules?.[index]?.[key];
}

/** A masked column whose table no allow rule's read/write list names: a typo, or a dead mask. */
function lintMasking(policy: CompiledPolicy, srcOf: (f: string) => YamlSource | undefined, indexOf: Map<CompiledRule, number>): ConfigProblem[] {
  const readable = new Set<string>();
  let anyBlock = false;
  for (const r of policy.rules) {
    if (r.effect !== 'allow') continue;
    for (const c of r.conditions) {
      const tables = blockTables(rawBlock(srcOf(r.file), indexOf.get(r)!, c.key));
      if (c.key === 'sql') anyBlock = true;
      for (const t of tables) readable.add(t);
    }
  }
  if (!anyBlock) return [];
  const out: ConfigProblem[] = [];
  for (const file of policy.files) {
    const src = srcOf(file);
    const cols = (src?.data as { masking?: { columns?: { column?: unknown }[] } } | undefined)?.masking?.columns;
    if (!Array.isArray(cols)) continue;
    cols.forEach((c, i) => {
      if (typeof c?.column !== 'string') return;
      const full = normaliseColumnName(c.column);
      const table = full.split('.').slice(0, -1).join('.');
      if (!readable.has(table)) {
        out.push({ file, line: src!.lineOf(['masking', 'columns', i, 'column']), path: `masking.columns.${i}.column`, message: `masked column ${full}: no allow rule's read covers ${table} (a typo, or a mask that never applies)`, severity: 'warning' });
      }
    });
  }
  return out;
}
