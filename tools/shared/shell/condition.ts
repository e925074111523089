/**
 * The `shell:` policy condition. Allow: the facts lie entirely within the grant (plain
 * commands, optional pipes, listed programs, allowed subcommands/flags/paths, no catalogue
 * hit). Deny (deny-rule.ts): some command (anywhere, also inside substitutions, wrappers and
 * scripts) runs a listed program and every restriction given for it is met. A subcommand that
 * cannot be told apart from an option's value (subcommand-options.ts) never satisfies an allow
 * and always satisfies a deny (fail closed).
 */
import { z } from 'zod';
import type { CompiledCondition, ConditionResult, ConditionSpec, Facts } from '../../../src/tool-api.js';
import { deny } from './deny-rule.js';
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
/** A program grant as compiled: `allowed` holds every spelling of its allow_flags. */
export type ProgramGrant = z.infer<typeof programSchema> & { allowed?: ReadonlySet<string> };

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
  if (g.allowed !== undefined) {
    const allowed = g.allowed;
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

/** The `shell:` condition for ssh_run and kubectl_exec (argv and `sh -c` scripts). */
export const shellCondition: ConditionSpec = {
  key: 'shell',
  families: ['shell', 'kubernetes-exec'],
  schema: shellBlockSchema,
  compile(raw, rule): CompiledCondition {
    const block = shellBlockSchema.parse(raw);
    for (const [name, g] of Object.entries(block.programs) as [string, ProgramGrant][]) {
      if (g.paths !== undefined) g.paths = g.paths.map((p) => normalisePath(p) ?? p);
      if (g.allow_flags !== undefined) g.allowed = new Set(g.allow_flags.flatMap((f) => spellings(name, f)));
    }
    const names: ReadonlySet<string> = new Set(Object.keys(block.programs));
    return (facts) => {
      if (!isShellFacts(facts)) return { matched: false, why: `A shell rule cannot judge ${facts.family} facts.` };
      return rule.effect === 'allow' ? allow(block, facts) : deny(block, names, facts);
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
