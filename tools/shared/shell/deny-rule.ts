/**
 * The deny side of the `shell:` condition: some command (anywhere, also inside substitutions)
 * runs a listed program, directly, through a wrapper or in a script (deny-runs.ts), and every
 * restriction given for it (deny_flags, subcommands, paths) is met.
 */
import { ErrorCode, WardenError, type ConditionResult } from '../../../src/tool-api.js';
import type { ProgramGrant, ShellBlock } from './condition.js';
import { lineTraits, runsOf, type Run } from './deny-runs.js';
import { findFlag } from './flags.js';
import { deniedPath, deniedRedirect } from './deny-paths.js';
import { parseShell } from './parse.js';
import { findSubcommand } from './subcommand-options.js';
import type { ShellFacts } from './types.js';

/** How deep scripts inside scripts are read, and how many per line; more match (fail closed). */
const MAX_SCRIPT_DEPTH = 4;
const MAX_SCRIPTS = 64;

/** Why one listed program run matches the rule (every restriction given for it is met), or null. */
function deniedRun(block: ShellBlock, run: Extract<Run, { kind: 'program' }>, outright: boolean, fed: boolean): string | null {
  const how = run.why !== undefined ? ` (${run.why})` : '';
  // Fail closed: a program named in a script, or run with words Warden cannot see, is not judged flag by flag.
  if (outright || (run.why !== undefined && run.args.length === 0)) return `Program ${run.program}${how} is denied.`;
  const g = block.programs[run.program] as ProgramGrant;
  const bits: string[] = [];
  let note = '';
  if (g.deny_flags !== undefined) {
    const hit = findFlag(run.program, run.args, g.deny_flags);
    if (hit === null) return null;
    bits.push(`flag ${hit.flag}`);
  }
  if (g.subcommands !== undefined) {
    // Fail closed: a subcommand that cannot be determined may be a denied one.
    const sub = findSubcommand(run.program, run.args);
    if (sub.kind === 'none' || (sub.kind === 'word' && !g.subcommands.includes(sub.word))) return null;
    bits.push(sub.kind === 'word' ? `subcommand ${sub.word}` : `an undetermined subcommand (${sub.why})`);
  }
  if (g.paths !== undefined) {
    // Relative words and folders read whole count too (deny-paths.ts).
    const hit = deniedPath(run.program, run.args, g.paths, fed) ?? deniedRedirect(run.redirects ?? [], g.paths);
    if (hit === null) return null;
    bits.push(`path '${hit.path}'`);
    if (hit.why !== undefined) note = `: ${hit.why}`;
  }
  return `Program ${run.program}${how}${bits.length > 0 ? ` with ${bits.join(', ')}` : ''} is denied${note}.`;
}

/**
 * Deny: some command runs a listed program as restricted, directly, through a wrapper or in a
 * script (deny-runs.ts); `depth` > 0 inside a script, where every listed program matches and
 * standard input may be `fed` by the line around it.
 */
export function deny(block: ShellBlock, names: ReadonlySet<string>, facts: ShellFacts, depth = 0, fed = false): ConditionResult {
  if (names.size === 0) return { matched: false, why: 'No denied program appears.' };
  // A program that is not a literal word (`$a /x`, `$(...) /x`) may be any denied program.
  if (facts.constructs.includes('variable_in_command_position')) {
    return { matched: true, why: 'A program is given by a variable, so it may be a denied one.' };
  }
  const traits = lineTraits(facts.constructs);
  const line = { expanding: traits.expanding, fed: fed || traits.fed };
  let scripts = 0;
  // A command's redirections (`cat x > /dev/sda`) are files of every program it runs.
  const runs = facts.commands.flatMap((c, at) => runsOf(c, names, line).map((r) => ({ ...(r.kind === 'program' && c.redirects !== undefined ? { ...r, redirects: c.redirects } : r), at })));
  // Standard input, generously: the line's first command is fed only by what feeds the line, a pipe feeds only later ones.
  const onlyPipes = !facts.constructs.some((c) => c !== 'pipeline' && c !== 'pipe_stderr' && lineTraits([c]).fed);
  const fedAt = (at: number): boolean => line.fed && (fed || at > 0 || !onlyPipes);
  for (const run of runs) {
    let why: string | null;
    if (run.kind === 'any') why = `${run.why}, so it may run a denied program.`;
    else if (run.kind === 'program') why = deniedRun(block, run, depth > 0, fedAt(run.at));
    else if (depth >= MAX_SCRIPT_DEPTH) why = `Scripts nest deeper than ${MAX_SCRIPT_DEPTH} levels (${run.why}), so they may run a denied program.`;
    else if (++scripts > MAX_SCRIPTS) why = `More than ${MAX_SCRIPTS} scripts (${run.why}), so they may run a denied program.`;
    else why = deniedInScript(block, names, run, depth + 1, line.fed);
    if (why !== null) return { matched: true, why };
  }
  return { matched: false, why: 'No denied program appears.' };
}

/** Why shell text a runner executes matches the rule (parsed; text that does not parse matches), or null. */
function deniedInScript(block: ShellBlock, names: ReadonlySet<string>, run: Extract<Run, { kind: 'script' }>, depth: number, fed: boolean): string | null {
  let facts: ShellFacts;
  try {
    facts = parseShell(run.text, run.bash === true ? 'bash' : 'posix');
  } catch (err) {
    // Warden's own words (bash-only syntax a POSIX shell reads apart says so: posix-syntax.ts).
    const why = err instanceof WardenError && err.code === ErrorCode.PARSE ? `: ${err.message}` : '';
    return `Shell text ${run.why} does not parse, so it may run a denied program${why}.`;
  }
  const r = deny(block, names, facts, depth, fed);
  return r.matched ? `${r.why.replace(/\.$/, '')} (${run.why}).` : null;
}
