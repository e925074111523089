/**
 * Policy tests as data (in the style of OPA and Cedar): YAML cases naming a principal, a call
 * and the expected decision, run offline through the same validate → parse → decide path as
 * the pipeline (explainCall), so a green run means the server would decide the same way.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { ConfigError, readYamlSource, validateSource, type ConfigProblem } from '../config/yaml-source.js';
import { explainCall, type ExplainEnv, type ExplainReport } from './explain.js';
import { approvalRequirements } from './approval-terms.js';
import { claimsWithActors } from './actors.js';

const idList = z.union([z.string().min(1), z.array(z.string().min(1))]).transform((v) => (Array.isArray(v) ? v : [v]));

/** One test case. */
export const testCaseSchema = z
  .object({
    name: z.string().min(1),
    principal: z
      .object({
        subject: z.string().min(1),
        groups: z.array(z.string()).default([]),
        claims: z.record(z.string(), z.unknown()).default({}),
        /** Agents acting for the subject (RFC 8693 `act` chain), current actor first; or give `claims.act` itself. */
        actors: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict()
      .refine((p) => !(p.actors && Object.hasOwn(p.claims, 'act')), { message: 'give the actor chain once: actors: or claims.act, not both', path: ['actors'] }),
    tool: z.string().min(1),
    arguments: z.record(z.string(), z.unknown()).default({}),
    expect: z
      .object({
        effect: z.enum(['allow', 'deny']),
        rules: idList.optional(),
        error: z.string().regex(/^WARDEN_[A-Z_]+$/, 'an error code such as WARDEN_PARSE').optional(),
        approval: z.boolean().optional(),
        masked: z.union([z.array(z.string().min(1)), z.record(z.string(), z.string())]).optional(),
      })
      .strict(),
  })
  .strict();

/** A test file: a list of cases. */
export const testFileSchema = z.object({ $schema: z.string().optional(), cases: z.array(testCaseSchema).min(1) }).strict();

/** A parsed test case. */
export type PolicyTestCase = z.infer<typeof testCaseSchema>;

/** The outcome of one case. */
export interface CaseResult {
  file: string;
  line: number;
  name: string;
  passed: boolean;
  failures: string[];
  report: ExplainReport;
}

/** Test files in a folder (*.yaml / *.yml, recursively) or a single file. */
export function findTestFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ConfigError([{ file: path, line: 0, path: '', message: 'test folder or file not found', severity: 'error' }]);
  }
  if (st.isFile()) return [path];
  const out: string[] = [];
  for (const e of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...findTestFiles(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Load every case from files; every problem is FILE:LINE (throws ConfigError). */
export function loadTestCases(files: string[]): { file: string; line: number; c: PolicyTestCase }[] {
  const problems: ConfigProblem[] = [];
  const out: { file: string; line: number; c: PolicyTestCase }[] = [];
  for (const file of files) {
    let src;
    try {
      src = readYamlSource(file);
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
      continue;
    }
    const { value, problems: p } = validateSource(src, testFileSchema, { quoteValues: true });
    problems.push(...p);
    value?.cases.forEach((c, i) => out.push({ file, line: src.lineOf(['cases', i]), c }));
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

/** Compare a report with what the case expects; returns failure messages (empty = pass). */
export function checkCase(c: PolicyTestCase, r: ExplainReport): string[] {
  const f: string[] = [];
  const e = c.expect;
  const d = r.decision;
  // A call no rule judged says nothing about the policy: its deny must not pass as the policy's.
  if (r.unjudged === 'offline') return [r.error!.message];
  if (r.unjudged === 'case' && e.error === undefined) f.push(`never judged by the rules: ${r.error!.code}: ${r.error!.message} (fix the case, or expect error: ${r.error!.code})`);
  if (d.effect !== e.effect) f.push(`expected ${e.effect}, got ${d.effect}${r.unjudged ? '' : `: ${d.reason}`}`);
  if (e.rules && !sameSet(e.rules, d.rule_ids)) f.push(`expected rules [${e.rules.join(', ')}], got [${d.rule_ids.join(', ')}]`);
  if (e.error !== undefined && r.error?.code !== e.error) f.push(`expected error ${e.error}, got ${r.error ? r.error.code : 'no error'}`);
  if (e.error === undefined && r.error && e.effect === 'allow' && !r.unjudged) f.push(`unexpected ${r.error.code}: ${r.error.message}`);
  if (e.approval !== undefined && !!d.approval !== e.approval) f.push(e.approval ? 'expected an approval obligation, got none' : `expected no approval, got one from rule ${approvalRequirements(d).map((a) => a.ruleId).join(', ')}`);
  if (e.masked !== undefined) {
    const got = r.masking?.columns ?? [];
    if (Array.isArray(e.masked)) {
      const names = [...new Set(got.map((m) => m.column))];
      if (!sameSet(e.masked, names)) f.push(`expected masked columns [${e.masked.join(', ')}], got [${names.join(', ')}]`);
    } else {
      const want = Object.entries(e.masked).map(([k, v]) => `${k}:${v}`);
      const have = [...new Set(got.map((m) => `${m.column}:${m.strategy}`))];
      if (!sameSet(want, have)) f.push(`expected masking [${want.join(', ')}], got [${have.join(', ')}]`);
    }
  }
  return f;
}

/** Run the cases offline against the compiled policy. */
export async function runTestCases(env: ExplainEnv, cases: { file: string; line: number; c: PolicyTestCase }[]): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const { file, line, c } of cases) {
    const claims = claimsWithActors(c.principal.claims, c.principal.actors ?? []) ?? c.principal.claims;
    const report = await explainCall(env, { subject: c.principal.subject, groups: c.principal.groups, claims, authMethod: 'local' }, c.tool, c.arguments);
    const failures = checkCase(c, report);
    out.push({ file, line, name: c.name, passed: failures.length === 0, failures, report });
  }
  return out;
}

/** Test-runner style output: one line per case, failures with FILE:LINE, then counts. */
export function formatResults(results: CaseResult[], baseDir: string, durationMs: number): string {
  const lines: string[] = [];
  let lastFile = '';
  for (const r of results) {
    const rel = relative(baseDir, r.file) || r.file;
    if (rel !== lastFile) lines.push(`${rel}`);
    lastFile = rel;
    lines.push(`  ${r.passed ? 'ok  ' : 'FAIL'} ${r.name}`);
    for (const f of r.failures) lines.push(`       ${rel}:${r.line}: ${f}`);
  }
  const passed = results.filter((r) => r.passed).length;
  lines.push('', `tests ${results.length}, pass ${passed}, fail ${results.length - passed} (${Math.round(durationMs)} ms)`);
  return lines.join('\n') + '\n';
}
