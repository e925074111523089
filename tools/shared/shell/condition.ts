/**
 * The `shell:` policy condition. Allow: the facts lie entirely within the grant (plain
 * commands, optional pipes, listed programs, allowed subcommands/flags/paths, no catalogue
 * hit). Deny: some command (anywhere, also inside substitutions) uses a listed program and
 * every restriction given for it (deny_flags, subcommands, paths) is met. A subcommand that
 * cannot be told apart from an option's value (subcommand-options.ts) never satisfies an allow
 * and always satisfies a deny (fail closed).
 */
import { z } from 'zod';
import type { CompiledCondition, ConditionResult, ConditionSpec, Facts } from '../../../src/tool-api.js';
import { findFlag, flagsUsed, optionWordsOf, spellings } from './flags.js';
import { injectionReason } from './injection-catalogue.js';
import { fileWords, relevantPathLike } from './operands.js';
import { normalisePath, underPrefix } from './paths.js';
import { findSubcommand } from './subcommand-options.js';
import type { ShellCommand, ShellFacts } from './types.js';

const flag = z.string().regex(/^-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a flag such as -f or --file');
const programSchema = z.strictObject({
  paths: z.array(z.string().regex(/^\//, 'an absolute path')).min(1).optional(),
  subcommands: z.array(z.string().min(1)).min(1).optional(),
  deny_flags: z.array(flag).optional(),
  allow_flags: z.array(flag).optional(),
});

/** Schema of a `shell:` block. Why bare program names: `/bin/rm` must never match `rm`. */
export const shellBlockSchema = z.strictObject({
  pipelines: z.boolean().default(false),
  programs: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, 'a bare program name (no path)'), programSchema),
});

/** A validated `shell:` block. */
export type ShellBlock = z.infer<typeof shellBlockSchema>;
type ProgramGrant = z.infer<typeof programSchema>;

// 'kubernetes-exec': kubectl_exec facts carry the shell fields too, so `shell:` judges their argv/script.
function isShellFacts(f: Facts): f is ShellFacts {
  return (f.family === 'shell' || f.family === 'kubernetes-exec') && Array.isArray((f as ShellFacts).commands) && Array.isArray((f as ShellFacts).constructs);
}

/** Why one command is outside one program grant, or null when it is inside. */
function outsideGrant(cmd: ShellCommand, g: ProgramGrant): string | null {
  const p = cmd.program;
  if (g.subcommands !== undefined) {
    // Fail closed: a subcommand that cannot be told apart from an option's value is never allowed.
    const sub = findSubcommand(p, cmd.args);
    if (sub.kind === 'undetermined') return `${sub.why} (allowed: ${g.subcommands.join(', ')}).`;
    if (sub.kind === 'none' || !g.subcommands.includes(sub.word)) {
      return `${p} ${sub.kind === 'word' ? sub.word : '(no subcommand)'} is not an allowed subcommand (allowed: ${g.subcommands.join(', ')}).`;
    }
  }
  if (g.deny_flags !== undefined) {
    const hit = findFlag(p, cmd.args, g.deny_flags);
    if (hit !== null) return `${p} flag ${hit.flag} (spelled '${hit.word}') is denied.`;
  }
  if (g.allow_flags !== undefined) {
    const allowed = new Set(g.allow_flags.flatMap((f) => spellings(p, f)));
    for (const w of optionWordsOf(p, cmd.args)) {
      if (!w.startsWith('-') || w === '-') continue;
      const whole = w.split('=', 1)[0] as string;
      if (allowed.has(whole)) continue;
      const bad = flagsUsed(w).find((f) => !allowed.has(f));
      if (bad !== undefined) return `${p} flag ${bad} is not in allow_flags.`;
    }
  }
  if (g.paths !== undefined) {
    const { files, pathLike } = fileWords(p, cmd.args);
    for (const f of files) {
      if (normalisePath(f) === null) return `${p} file argument '${f}' is not an absolute path.`;
      if (!underPrefix(f, g.paths)) return `${p} path '${normalisePath(f) ?? f}' is outside ${g.paths.join(', ')}.`;
    }
    for (const w of relevantPathLike(pathLike)) {
      if (!underPrefix(w, g.paths)) return `${p} path argument '${w}' is not under ${g.paths.join(', ')}.`;
    }
  }
  return null;
}

function allow(block: ShellBlock, facts: ShellFacts): ConditionResult {
  const extra = facts.constructs.filter((c) => !(c === 'pipeline' && block.pipelines));
  if (extra.length > 0) return { matched: false, why: `The command line uses ${extra.join(', ')}, which this rule does not allow.` };
  if (facts.commands.length === 0) return { matched: false, why: 'No command to judge.' };
  for (const cmd of facts.commands) {
    if (cmd.program.includes('/')) return { matched: false, why: `Program '${cmd.program}' is given as a path; only bare program names are allowed.` };
    const grant = Object.hasOwn(block.programs, cmd.program) ? block.programs[cmd.program] : undefined;
    if (grant === undefined) return { matched: false, why: `Program '${cmd.program}' is not allowed by this rule.` };
    const inj = injectionReason(cmd);
    if (inj !== null) return { matched: false, why: `Always denied: ${inj}` };
    const out = outsideGrant(cmd, grant);
    if (out !== null) return { matched: false, why: out };
  }
  const names = [...new Set(facts.commands.map((c) => c.program))].join(', ');
  return { matched: true, why: `Allowed programs ${names} within their grants.` };
}

/**
 * Programs that run another program named in their arguments (`nice rm`, `timeout 9 rm`,
 * `xargs rm`, `find -exec rm`), and programs that run a script given in their arguments
 * (`eval`, `sh -c`). A deny rule names a program; it must not be dodged by wrapping it.
 */
const WRAPPERS = new Set([
  'env', 'nice', 'nohup', 'timeout', 'stdbuf', 'ionice', 'chrt', 'taskset', 'setsid', 'sudo', 'doas', 'runuser', 'xargs',
  'command', 'builtin', 'exec', 'time', 'watch', 'flock', 'unbuffer', 'strace', 'ltrace', 'chroot', 'parallel', 'nsenter',
  'systemd-run', 'find', 'ip', 'busybox', 'catchsegv', 'valgrind', 'rlwrap', 'faketime', 'proxychains', 'torsocks', 'caffeinate',
]);
const SCRIPT_RUNNERS = new Set([
  'eval', 'source', '.', 'sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'su', 'script', 'fish', 'csh', 'tcsh',
  'python', 'python3', 'perl', 'ruby', 'node', 'php', 'lua', 'awk', 'gawk', 'mawk', 'tclsh', 'expect', 'sed',
]);

/**
 * The commands a deny rule must judge: each command as written, and, for a wrapper, the program
 * its arguments name with the words after it; a script runner's script words count as named
 * programs too (fail closed: their own flags are not judged, `why` says so).
 */
function deniable(block: ShellBlock, cmd: ShellCommand): { program: string; args: string[]; why?: string }[] {
  const base = cmd.program.slice(cmd.program.lastIndexOf('/') + 1);
  const out: { program: string; args: string[]; why?: string }[] = [{ program: cmd.program, args: cmd.args }];
  const named = (w: string) => {
    const b = w.slice(w.lastIndexOf('/') + 1);
    return Object.hasOwn(block.programs, b) ? b : null;
  };
  if (WRAPPERS.has(base)) {
    cmd.args.forEach((w, i) => {
      const n = named(w);
      if (n !== null) out.push({ program: n, args: cmd.args.slice(i + 1), why: `run through ${base}` });
    });
  }
  if (SCRIPT_RUNNERS.has(base)) {
    for (const w of cmd.args.flatMap((a) => a.split(/[^\w./+-]+/))) {
      const n = named(w);
      if (n !== null) out.push({ program: n, args: [], why: `named in a script run by ${base}` });
    }
  }
  return out;
}

function deny(block: ShellBlock, facts: ShellFacts): ConditionResult {
  // A program that is not a literal word (`$a /x`, `$(...) /x`) may be any denied program.
  if (facts.constructs.includes('variable_in_command_position') && Object.keys(block.programs).length > 0) {
    return { matched: true, why: 'A program is given by a variable, so it may be a denied one.' };
  }
  for (const found of facts.commands.flatMap((c) => deniable(block, c))) {
    if (found.why !== undefined && found.args.length === 0) return { matched: true, why: `Program ${found.program} (${found.why}) is denied.` };
    const cmd = found;
    const base = cmd.program.slice(cmd.program.lastIndexOf('/') + 1);
    const name = Object.hasOwn(block.programs, cmd.program) ? cmd.program : Object.hasOwn(block.programs, base) ? base : null;
    if (name === null) continue;
    const g = block.programs[name] as ProgramGrant;
    const bits: string[] = [];
    if (g.deny_flags !== undefined) {
      const hit = findFlag(name, cmd.args, g.deny_flags);
      if (hit === null) continue;
      bits.push(`flag ${hit.flag}`);
    }
    if (g.subcommands !== undefined) {
      // Fail closed: a subcommand that cannot be determined may be a denied one.
      const sub = findSubcommand(name, cmd.args);
      if (sub.kind === 'none' || (sub.kind === 'word' && !g.subcommands.includes(sub.word))) continue;
      bits.push(sub.kind === 'word' ? `subcommand ${sub.word}` : `an undetermined subcommand (${sub.why})`);
    }
    if (g.paths !== undefined) {
      const { files, pathLike } = fileWords(name, cmd.args);
      const hit = [...files, ...relevantPathLike(pathLike)].find((f) => underPrefix(f, g.paths ?? []));
      if (hit === undefined) continue;
      bits.push(`path '${hit}'`);
    }
    return { matched: true, why: `Program ${name}${found.why ? ` (${found.why})` : ''}${bits.length > 0 ? ` with ${bits.join(', ')}` : ''} is denied.` };
  }
  return { matched: false, why: 'No denied program appears.' };
}

/** The `shell:` condition for ssh_run and kubectl_exec (argv and `sh -c` scripts). */
export const shellCondition: ConditionSpec = {
  key: 'shell',
  families: ['shell', 'kubernetes-exec'],
  schema: shellBlockSchema,
  compile(raw, rule): CompiledCondition {
    const block = shellBlockSchema.parse(raw);
    for (const g of Object.values(block.programs)) {
      if (g.paths !== undefined) g.paths = g.paths.map((p) => normalisePath(p) ?? p);
    }
    return (facts) => {
      if (!isShellFacts(facts)) return { matched: false, why: `A shell rule cannot judge ${facts.family} facts.` };
      return rule.effect === 'allow' ? allow(block, facts) : deny(block, facts);
    };
  },
  describe(raw) {
    const parsed = shellBlockSchema.safeParse(raw);
    if (!parsed.success) return 'shell: invalid block';
    const parts = Object.entries(parsed.data.programs).map(([name, g]) => {
      const bits = [g.subcommands && `subcommands ${g.subcommands.join('/')}`, g.paths && `under ${g.paths.join(', ')}`].filter(Boolean);
      return bits.length > 0 ? `${name} (${bits.join('; ')})` : name;
    });
    return `shell: ${parts.join(', ')}${parsed.data.pipelines ? '; pipelines allowed' : ''}`;
  },
};
