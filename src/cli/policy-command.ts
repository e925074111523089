/**
 * `warden policy check|test|explain|schema`: fast, precise feedback for admins. Everything runs
 * offline: no backend is contacted and no secret is resolved, so it is safe in CI and on a
 * laptop that holds only the config.
 */
import { resolve } from 'node:path';
import { families } from '../../tools/index.js';
import { loadServerConfig, type ServerConfig } from '../config/server-config.js';
import { unmatchedPolicyPatterns } from '../config/policy-globs.js';
import { secretFileProblems } from '../config/secret-files.js';
import { ConfigError, formatProblem, readYamlSource, type ConfigProblem } from '../config/yaml-source.js';
import { keySourceProblem } from '../identity/key-source-url.js';
import { MAX_CLOCK_TOLERANCE_MS } from '../identity/oidc.js';
import { compileForConfig } from '../server/runtime.js';
import { explainCall, formatExplain, offlineFamilies } from '../policy/explain.js';
import { lintPolicy } from '../policy/lint.js';
import { claimsWithActors } from '../policy/actors.js';
import { findTestFiles, formatResults, loadTestCases, runTestCases } from '../policy/test-cases.js';
import { generateSchemas, type SchemaSet } from '../policy/json-schema.js';
import type { CompiledPolicy } from '../policy/types.js';
import { parseArgs, UsageError, type ParsedArgs } from './args.js';
import { jsonDoc, stderrLine, stdoutLine } from './terminal-out.js';

/** Tools Warden adds itself; rules do not govern them. */
const BUILTINS = ['list_connections', 'approval_status', 'explain_call'];

interface Loaded {
  config: ServerConfig;
  policy: CompiledPolicy;
}

function load(a: ParsedArgs): Loaded {
  const config = loadServerConfig(String(a.flags.config ?? 'warden.yaml'), families);
  return { config, policy: compileForConfig(config, families) };
}

function printProblems(problems: ConfigProblem[]): void {
  for (const p of problems) stderrLine(formatProblem(p));
}

/** Parse a subcommand's arguments: known flags, at most `max` positionals (usage errors, before the config is read). */
function args(argv: string[], allowed: string[], max: number): ParsedArgs {
  const a = parseArgs(argv, allowed);
  if (a.positionals.length > max) throw new UsageError(`unexpected argument "${a.positionals[max]}"`);
  return a;
}

/** Run `warden policy SUBCOMMAND`; returns the exit code (usage errors are thrown; main.ts prints them with the usage). */
export async function runPolicyCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'check':
        return check(args(rest, ['config=', 'json', 'strict'], 0));
      case 'test':
        return await test(args(rest, ['config=', 'json'], 1));
      case 'explain':
        return await explain(args(rest, ['config=', 'json', 'as=', 'groups=', 'claims=', 'actors=', 'tool=', 'args='], 0));
      case 'schema':
        // The schemas describe this Warden and its plug-ins, not a config: --config is accepted
        // (every command takes it) and does not change them; the output is JSON either way.
        return schema(args(rest, ['config=', 'json'], 1));
      default:
        throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (rest.includes('--json')) stdoutLine(jsonDoc({ ok: false, problems: e.problems }, 2));
    // check's one summary line, as when the files load: what failed and how much (the problems follow on stderr).
    else if (sub === 'check') {
      const errors = e.problems.filter((p) => p.severity !== 'warning').length;
      stdoutLine(`FAILED: the configuration or a policy file did not load; ${errors} errors, ${e.problems.length - errors} warnings`);
    }
    printProblems(e.problems);
    return 1;
  }
}

function check(a: ParsedArgs): number {
  const config = loadServerConfig(String(a.flags.config ?? 'warden.yaml'), families);
  const unmatched = unmatchedPolicyPatterns(config);
  let policy: CompiledPolicy;
  try {
    policy = compileForConfig(config, families);
  } catch (e) {
    // Report the empty globs too: a file that failed to load may be why a rule seems missing.
    if (e instanceof ConfigError) throw new ConfigError([...e.problems, ...unmatched]);
    throw e;
  }
  const lint = lintPolicy({ policy, connections: config.connections, families: offlineFamilies(families, config.connections), builtins: BUILTINS });
  const configLine = readYamlSource(config.file).lineOf;
  const problems = [...unmatched, ...identityProblems(config, configLine), ...secretFileProblems(config, configLine), ...lint].sort((x, y) => x.file.localeCompare(y.file) || x.line - y.line);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const ok = errors === 0 && !(a.flags.strict && warnings > 0);
  if (a.flags.json) {
    stdoutLine(jsonDoc({ ok, config: config.file, files: policy.files, rules: policy.rules.length, policy_version: policy.version, errors, warnings, problems }, 2));
  } else {
    stdoutLine(`${ok ? 'ok' : 'FAILED'}: ${policy.rules.length} rules in ${policy.files.length} policy files (policy version ${policy.version}); ${errors} errors, ${warnings} warnings`);
  }
  printProblems(problems);
  return ok ? 0 : 1;
}

/**
 * What the token verifier refuses when it starts (identity/oidc.ts), reported by check at its
 * line. Why: "ok" from check must mean the server starts; an issuer or jwks_uri over plain http
 * to another host, or a clock tolerance that keeps expired tokens alive, loaded as ok before.
 */
function identityProblems(config: ServerConfig, lineOf: (path: (string | number)[]) => number): ConfigProblem[] {
  const oidc = config.identity.oidc;
  if (!oidc) return [];
  const at = (key: string, message: string): ConfigProblem => ({ file: config.file, line: lineOf(['identity', 'oidc', key]), path: `identity.oidc.${key}`, message, severity: 'error' });
  const out: ConfigProblem[] = [];
  const [key, url] = oidc.jwks_uri === undefined ? ['issuer', oidc.issuer] : ['jwks_uri', oidc.jwks_uri];
  const insecure = keySourceProblem(url);
  if (insecure) out.push(at(key, `${insecure}: the issuer's keys decide every identity (the server refuses to start)`));
  if (oidc.clock_tolerance > MAX_CLOCK_TOLERANCE_MS) out.push(at('clock_tolerance', `at most ${MAX_CLOCK_TOLERANCE_MS / 1000}s (expired tokens pass for that long; the server refuses to start)`));
  return out;
}

async function test(a: ParsedArgs): Promise<number> {
  const { config, policy } = load(a);
  const dir = a.positionals[0] ? resolve(a.positionals[0]) : resolve(config.baseDir, 'policies/tests');
  const cases = loadTestCases(findTestFiles(dir));
  const t0 = performance.now();
  const results = await runTestCases({ policy, tools: offlineFamilies(families, config.connections).flatMap((f) => f.tools), connections: config.connections }, cases);
  const failed = results.filter((r) => !r.passed).length;
  if (a.flags.json) {
    const doc = {
      ok: failed === 0 && results.length > 0,
      tests: results.length,
      passed: results.length - failed,
      failed,
      policy_version: policy.version,
      results: results.map((r) => ({ file: r.file, line: r.line, name: r.name, passed: r.passed, failures: r.failures, effect: r.report.decision.effect, rule_ids: r.report.decision.rule_ids })),
    };
    stdoutLine(jsonDoc(doc, 2));
  } else {
    stdoutLine(formatResults(results, process.cwd(), performance.now() - t0));
  }
  if (results.length === 0) stderrLine(`warden: no test cases found in ${dir}`);
  return failed === 0 && results.length > 0 ? 0 : 1;
}

function jsonFlag(v: string | boolean | undefined, name: string): unknown {
  if (typeof v !== 'string') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    throw new UsageError(`--${name} must be JSON`);
  }
}

async function explain(a: ParsedArgs): Promise<number> {
  if (typeof a.flags.as !== 'string' || typeof a.flags.tool !== 'string') throw new UsageError('explain needs --as SUBJECT and --tool T');
  const args = jsonFlag(a.flags.args, 'args') ?? {};
  const claims = jsonFlag(a.flags.claims, 'claims') ?? {};
  if (typeof args !== 'object' || Array.isArray(args) || args === null) throw new UsageError('--args must be a JSON object');
  if (typeof claims !== 'object' || Array.isArray(claims) || claims === null) throw new UsageError('--claims must be a JSON object');
  const { config, policy } = load(a);
  const groups = typeof a.flags.groups === 'string' ? a.flags.groups.split(',').map((g) => g.trim()).filter(Boolean) : [];
  // --actors agent-x,broker: the RFC 8693 act chain, current actor first (or give claims.act in --claims).
  const actors = typeof a.flags.actors === 'string' ? a.flags.actors.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const withActors = claimsWithActors(claims as Record<string, unknown>, actors);
  if (!withActors) throw new UsageError('give the actor chain once: --actors or an act in --claims, not both');
  const principal = { subject: a.flags.as, groups, claims: withActors, authMethod: 'local' as const };
  const tools = offlineFamilies(families, config.connections).flatMap((f) => f.tools);
  const report = await explainCall({ policy, tools, connections: config.connections }, principal, a.flags.tool, args);
  stdoutLine(a.flags.json ? jsonDoc({ ...report, policy_version: policy.version }, 2) : formatExplain(report));
  return 0;
}

function schema(a: ParsedArgs): number {
  const which = a.positionals[0] ?? 'policy';
  const names: Record<string, keyof SchemaSet> = { warden: 'warden.schema.json', policy: 'policy.schema.json', test: 'policy-test.schema.json' };
  const name = names[which];
  if (!name) throw new UsageError(`schema: expected warden, policy or test, not "${which}"`);
  stdoutLine(jsonDoc(generateSchemas(families)[name], 2));
  return 0;
}
