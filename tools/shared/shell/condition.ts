/**
 * The `shell:` policy condition. Allow: the facts lie entirely within the grant (plain
 * commands, optional pipes, listed programs, allowed subcommands/flags/paths, no catalogue
 * hit, and ssh's remote command judged as a nested line under the same grants: see remoteRefusal;
 * likewise the command `kubectl exec`, `docker run` and the other hops run: see hopRefusal).
 * Deny (deny-rule.ts): some command (anywhere, also inside substitutions, wrappers and
 * scripts) runs a listed program and every restriction given for it is met. A subcommand that
 * cannot be told apart from an option's value (subcommand-options.ts) never satisfies an allow
 * and always satisfies a deny (fail closed).
 */
import { z } from 'zod';
import { ErrorCode, WardenError, type CompiledCondition, type ConditionResult, type ConditionSpec, type Facts } from '../../../src/tool-api.js';
import { deny } from './deny-rule.js';
import { languageEscape, languageFiles } from './command-languages.js';
import { lineTraits } from './deny-runs.js';
import { findFlag, flagsUsed, spellings } from './flags.js';
import { injectionReason } from './injection-catalogue.js';
import { fileWords, modelledOptionWords, readerWrite, relevantPathLike } from './operands.js';
import { gitObeys, gitObeysWhy } from './git-files.js';
import { gitConfigReach } from './git-config.js';
import { carriedToGit, copiedIntoObeyed, gitPlace } from './git-carry.js';
import { lexicalPath, normalisePath, PREFIX, prefixProblem, throughOpenFile, underPrefix } from './paths.js';
import { unnamedPlace } from './proc-places.js';
import { parseShell } from './parse.js';
import { reshapedOutput } from './output-shape.js';
import { REWRITING_PROGRAMS, rewrittenOutput } from './rewriters.js';
import { sshRemote } from './runner-args.js';
import { startupFilesRead } from './startup-files.js';
import { stateChange } from './state-options.js';
import { AWKS, programBase, SHELLS } from './runners.js';
import { execHop } from './exec-hops.js';
import { JQ_FAMILY, jqProgramReach } from './jq-program.js';
import { awkEnvironmentReach } from './script-checks.js';
import { psEnvironmentReach } from './ps-environment.js';
import { SERVICE_ENVIRONMENT_READERS, serviceEnvironmentReach } from './service-environment.js';
import { parseArgv } from './argv.js';
import { findSubcommand } from './subcommand-options.js';
import { secretFileRead } from './secret-files.js';
import { GIT_SHOW_LAST, gitShowsById } from './git-object-shows.js';
import { deviceLandingRefusal } from './device-landings.js';
import { kubectlPlugin } from './unread-runs.js';
import type { ShellCommand, ShellFacts } from './types.js';

const flag = z.string().regex(/^-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a flag such as -f or --file');
const programSchema = z.strictObject({
  paths: z.array(z.string().regex(PREFIX, { error: (iss) => prefixProblem(iss.path, iss.input) })).min(1).optional(),
  subcommands: z.array(z.string().min(1)).min(1).optional(),
  deny_flags: z.array(flag).optional(),
  allow_flags: z.array(flag).optional(),
  environment: z.boolean().optional(),
  rewrites: z.boolean().optional(),
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

/** What feeds a command's standard input (see languageEscape). */
type Feed = ShellCommand | 'none' | 'unknown';

/** Why one command (fed by `feed`) is outside one program grant, or null when it is inside. */
function outsideGrant(cmd: ShellCommand, g: ProgramGrant, feed: Feed): string | null {
  const p = cmd.program;
  if (g.subcommands !== undefined) {
    // Fail closed: a subcommand that cannot be told apart from an option's value is never allowed.
    const sub = findSubcommand(p, cmd.args);
    if (sub.kind === 'undetermined') return `${sub.why} (allowed: ${g.subcommands.join(', ')}).`;
    if (sub.kind === 'none' || !g.subcommands.includes(sub.word)) {
      return `${p} ${sub.kind === 'word' ? sub.word : '(no subcommand)'} is not an allowed subcommand (allowed: ${g.subcommands.join(', ')}).`;
    }
  }
  // A kubectl plugin runs whatever kubectl-NAME on PATH is: only a grant that names it allows it.
  const plugin = p === 'kubectl' ? kubectlPlugin(cmd.args) : null;
  if (plugin !== null && g.subcommands?.includes(plugin.word) !== true) return `${plugin.why}, which this rule does not name in subcommands:.`;
  if (g.deny_flags !== undefined) {
    const hit = findFlag(p, cmd.args, g.deny_flags);
    if (hit !== null) return `${p} flag ${hit.flag} (spelled '${hit.word}') is denied.`;
  }
  if (g.allowed !== undefined) {
    const allowed = g.allowed;
    for (const w of modelledOptionWords(p, cmd.args)) {
      if (!w.startsWith('-') || w === '-') continue;
      const whole = w.split('=', 1)[0] as string;
      if (allowed.has(whole)) continue;
      const bad = flagsUsed(w).find((f) => !allowed.has(f));
      if (bad !== undefined) return `${p} flag ${bad} is not in allow_flags.`;
    }
  }
  // grep -o, tail -c, cat -T: output that cuts a value from the name masking reads (output-shape.ts).
  const reshaped = reshapedOutput(p, cmd.args, g.allowed);
  if (reshaped !== null) return reshaped;
  if (g.paths === undefined) {
    // A reading program's write (sort -o, uniq OUT, journalctl --cursor-file) needs paths: to say where (operands.ts).
    const written = readerWrite(p, cmd.args);
    if (written !== undefined) return `${p} writes '${written}', and this grant has no paths: to bound where (grant paths: to let it write under them).`;
  } else {
    const { files, pathLike, writes, unjudged } = fileWords(p, cmd.args);
    for (const f of files) {
      // An open file (/proc/1/fd/3, /dev/stdin), a process's environ, cmdline, mem: only where paths: name them (proc-places.ts).
      const unnamed = unnamedPlace(p, f, g.paths, g.environment === true, cmd.args, feed !== 'none');
      if (unnamed !== null) return unnamed;
      if (throughOpenFile(f)) continue;
      // A relative name (`.bashrc`, `authorized_keys`, `.`, `..`) or `~` resolves in the login folder, the remote user's home.
      if (normalisePath(f) === null) return `${p} file argument '${f}' is not an absolute path: it would resolve in the login folder (the remote user's home), outside ${g.paths.join(', ')}; write an absolute path under them.`;
      if (!underPrefix(f, g.paths)) return `${p} path '${normalisePath(f) ?? f}' is outside ${g.paths.join(', ')}.`;
    }
    if (unjudged !== undefined) return `${unjudged}.`;
    for (const w of relevantPathLike(pathLike)) {
      const unnamed = unnamedPlace(p, w, g.paths, g.environment === true, cmd.args, feed !== 'none');
      if (unnamed !== null) return unnamed;
      if (!throughOpenFile(w) && !underPrefix(w, g.paths)) return `${p} path argument '${w}' is not under ${g.paths.join(', ')}.`;
    }
    // Files its command language reads and writes (psql \copy, \o, sqlite3 .import, .output, mysql INFILE, OUTFILE, ...).
    const touched = languageFiles(cmd, feed);
    const prefixes = g.paths;
    if (touched !== null && 'unreadable' in touched) {
      return `${p} may read or write a file, and ${touched.unreadable}: with paths: granted, every file it reads or writes must be named plainly.`;
    }
    for (const [verb, files] of [['reads', touched?.reads ?? []], ['writes', touched?.writes ?? []]] as const) {
      const out = files.find((f) => !underPrefix(f, prefixes) || unnamedPlace(p, f, prefixes, g.environment === true, cmd.args, feed !== 'none') !== null);
      if (out !== undefined) return `${p} ${verb} '${normalisePath(out) ?? out}', which is not an absolute path under ${prefixes.join(', ')}.`;
    }
    // The one place writes are judged: none may land in a file git obeys (git-files.ts).
    const obeyed = [...writes, ...(touched?.writes ?? [])].find(gitObeys);
    if (obeyed !== undefined) return gitObeysWhy(p, normalisePath(obeyed) ?? obeyed);
    // A copy into a folder lands under its source's name; git says where it runs (git-carry.ts).
    const carried = copiedIntoObeyed(cmd) ?? (p === 'git' ? gitPlace(cmd.args) ?? gitConfigReach(cmd.args) : null);
    if (carried !== null) return carried;
  }
  // jq's `env`/`$ENV`, yq's `strenv()`, awk's ENVIRON, `ps e`, `systemctl show`, `docker inspect`: the environment, only
  // where the grant says so (jq-program.ts, script-checks.ts, ps-environment.ts, service-environment.ts).
  // Last, so a more specific refusal speaks first: cut, tr, base64, sed 's/.*=//', jq -r .password show values without the names masking reads (rewriters.ts).
  const env = g.environment === true;
  return jqProgramReach(p, cmd.args, env, g.paths !== undefined) ?? awkEnvironmentReach(p, cmd.args, env) ?? psEnvironmentReach(p, cmd.args, env) ??
    serviceEnvironmentReach(p, cmd.args, env) ?? rewrittenOutput(p, cmd.args, g.rewrites === true);
}

const GIT_NOT_REBUILT = 'git under paths: runs only on the line Warden rebuilds, which keeps it from reading a repository above its -C folder (GIT_CEILING_DIRECTORIES): not in the remote command of ssh or a command a hop runs.';

/** How deep ssh remote commands inside remote commands are judged; deeper ones are refused. */
const MAX_REMOTE_DEPTH = 4;

/**
 * Why ssh's remote command is refused, or null. It is judged as a nested command line under the
 * same rule, exactly as if it ran here: constructs, pipelines, listed programs within their
 * grants (flags, subcommands, paths), the injection catalogue, a fed standard input, and ssh
 * inside it again. Why listed: a grant of `ssh` alone must not be a grant of every command on
 * every host it reaches (`ssh h rm -rf /`); `ssh h` with no remote command needs only ssh.
 * Deny rules see the remote command's programs too (deny-runs.ts), so a denied program stays
 * denied behind ssh.
 */
function remoteRefusal(block: ShellBlock, cmd: ShellCommand, depth: number, fed: boolean): string | null {
  if (programBase(cmd.program) !== 'ssh') return null;
  const remote = sshRemote(cmd.args);
  if ('unknown' in remote) return `${remote.unknown}, so its remote command cannot be told.`;
  if (remote.command.length === 0) return null;
  if (depth >= MAX_REMOTE_DEPTH) return `ssh remote commands nest deeper than ${MAX_REMOTE_DEPTH} levels.`;
  let facts: ShellFacts;
  try {
    facts = parseShell(remote.command.join(' '), 'posix'); // the remote login shell may be dash (or any)
  } catch (err) {
    const why = err instanceof WardenError && err.code === ErrorCode.PARSE ? ` (${err.message})` : '';
    return `The remote command of ssh is not a command line Warden can parse${why}.`;
  }
  const r = allow(block, facts, depth + 1, fed); // what feeds ssh feeds its remote command
  return r.matched ? null : `In the remote command of ssh: ${r.why}`;
}

/**
 * Why the command a hop runs in a pod, a container or a machine (exec-hops.ts: `kubectl exec POD
 * -- CMD`, `docker run IMAGE CMD`, ...) is refused, or null. It runs as an argv, with no shell:
 * judged as one command of its own under the same rule, as ssh's remote command is. With no
 * command, a hop that runs a shell on a terminal needs a shell listed in the rule, and never
 * reads a script the line feeds it.
 */
function hopRefusal(block: ShellBlock, cmd: ShellCommand, depth: number, fed: boolean): string | null {
  const hop = execHop(programBase(cmd.program), cmd.args);
  if (hop === null) return null;
  if ('unknown' in hop) return `${hop.unknown}, so the command it runs cannot be told.`;
  // Environment given to the command (`-e NAME=value`, `--env-file`) is an assignment, which no allow grants on a line either.
  const set = hop.env.find((e) => e.includes('='));
  if (set !== undefined || hop.envFile) return `${programBase(cmd.program)} sets the environment of the command it runs (${set ?? 'from a file'}), which this rule does not allow.`;
  if ('shell' in hop) {
    if (fed) return `${hop.shell}, which would read the script the line feeds it.`;
    return SHELLS.some((s) => Object.hasOwn(block.programs, s)) ? null : `${hop.shell}, and this rule lists no shell.`;
  }
  if (depth >= MAX_REMOTE_DEPTH) return `Commands run through ssh and hops nest deeper than ${MAX_REMOTE_DEPTH} levels.`;
  let facts: ShellFacts;
  try {
    facts = parseArgv(hop.command);
  } catch {
    return `The command ${hop.how} runs is not one Warden can judge.`;
  }
  const r = allow(block, facts, depth + 1, fed);
  return r.matched ? null : `In the command ${hop.how} runs: ${r.why}`;
}

/**
 * Allow: every command is inside the grant; `depth` > 0 for an ssh remote command (see
 * remoteRefusal), whose standard input is `fed` when the line around ssh feeds it. With only
 * pipes allowed, `commands` are the pipeline's stages in order, so each is fed by the one before.
 */
function allow(block: ShellBlock, facts: ShellFacts, depth = 0, fed = false): ConditionResult {
  const extra = facts.constructs.filter((c) => !(c === 'pipeline' && block.pipelines));
  if (extra.length > 0) return { matched: false, why: `The command line uses ${extra.join(', ')}, which this rule does not allow.` };
  if (facts.commands.length === 0) return { matched: false, why: 'No command to judge.' };
  const feeds = fed || lineTraits(facts.constructs).fed;
  for (const [i, cmd] of facts.commands.entries()) {
    if (cmd.program.includes('/')) return { matched: false, why: `Program '${cmd.program}' is given as a path; only bare program names are allowed.` };
    const grant = Object.hasOwn(block.programs, cmd.program) ? block.programs[cmd.program] : undefined;
    if (grant === undefined) return { matched: false, why: `Program '${cmd.program}' is not allowed by this rule.` };
    const feed: Feed = i > 0 ? (facts.commands[i - 1] as ShellCommand) : fed ? 'unknown' : 'none';
    const inj = injectionReason(cmd, feeds) ?? stateChange(cmd, grant.subcommands) ?? languageEscape(cmd, feed) ?? (depth > 0 ? startupFilesRead(cmd) : null);
    if (inj !== null) return { matched: false, why: `Always denied: ${inj}` };
    // Warden sets GIT_CEILING_DIRECTORIES only on a line it rebuilds (git-guard.ts gitCeiling).
    if (depth > 0 && cmd.program === 'git' && grant.paths !== undefined) return { matched: false, why: GIT_NOT_REBUILT };
    // `git show ID` is judged by its output (git-object-shows.ts): the line's last command, on the line Warden runs.
    if (cmd.program === 'git' && (depth > 0 || i < facts.commands.length - 1) && gitShowsById(cmd.args)) return { matched: false, why: GIT_SHOW_LAST };
    const git = Object.hasOwn(block.programs, 'git') ? block.programs.git : undefined;
    // A file that is itself a secret (secret-files.ts; a pod's Secret volumes too): only a grant naming it reads it.
    const touched = languageFiles(cmd, feed);
    const secret = secretFileRead(cmd, grant.paths, (facts as { secretMounts?: string[] }).secretMounts, touched !== null && 'reads' in touched ? touched.reads : [], feed !== 'none');
    // A copy into a folder that lands on a device (`cp /srv/sda /dev`: device-landings.ts).
    const landing = deviceLandingRefusal(cmd.program, cmd.args, grant.paths);
    const out = outsideGrant(cmd, grant, feed) ?? landing ?? secret ?? carriedToGit(cmd, grant, git) ?? remoteRefusal(block, cmd, depth, feeds) ?? hopRefusal(block, cmd, depth, feeds);
    if (out !== null) return { matched: false, why: out };
  }
  const names = [...new Set(facts.commands.map((c) => c.program))].join(', ');
  return { matched: true, why: `Allowed programs ${names} within their grants.` };
}

/** Programs whose grant may say `environment: true`: the jq family's and awk's programs, `ps e`, and service and container readers (and any grant with paths: for /proc/PID/environ, proc-places.ts). */
const ENVIRONMENT_READERS: ReadonlySet<string> = new Set([...JQ_FAMILY, ...AWKS, 'ps', ...SERVICE_ENVIRONMENT_READERS]);

/** The `shell:` condition for ssh_run and kubectl_exec (argv and `sh -c` scripts). */
export const shellCondition: ConditionSpec = {
  key: 'shell',
  families: ['shell', 'kubernetes-exec'],
  schema: shellBlockSchema,
  compile(raw, rule): CompiledCondition {
    const block = shellBlockSchema.parse(raw);
    // A deny naming no program matches nothing: the rule would load and deny nothing.
    if (rule.effect === 'deny' && Object.keys(block.programs).length === 0) throw new Error('a deny\'s programs map is empty, so it would deny nothing: name the programs to deny');
    for (const [name, g] of Object.entries(block.programs) as [string, ProgramGrant][]) {
      if (g.environment !== undefined && (rule.effect === 'deny' || (!ENVIRONMENT_READERS.has(name) && g.paths === undefined))) {
        throw new Error(`environment: is for an allow's ${[...JQ_FAMILY].join(', ')} grant (it lets their program read the environment), ${[...AWKS].join(', ')} grant (ENVIRON), ${SERVICE_ENVIRONMENT_READERS.join(', ')} grant (systemctl show/cat, docker inspect, ... print a service's environment) or ps grant (ps e prints processes' environment), or a grant with paths: (/proc/PID/environ under them), not ${rule.effect === 'deny' ? 'a deny' : name}`);
      }
      if (g.rewrites !== undefined && (rule.effect === 'deny' || !REWRITING_PROGRAMS.includes(name))) {
        throw new Error(`rewrites: is for an allow's grant of a program that rewrites text (${REWRITING_PROGRAMS.join(', ')}), not ${rule.effect === 'deny' ? 'a deny' : name}`);
      }
      if (g.paths !== undefined) g.paths = g.paths.map((p) => normalisePath(p) ?? lexicalPath(p) ?? p); // /dev/./stdin is /dev/stdin
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
      const bits = [g.subcommands && `subcommands ${g.subcommands.join('/')}`, g.paths && `under ${g.paths.join(', ')}`, g.rewrites === true && 'may rewrite text'].filter(Boolean);
      return bits.length > 0 ? `${name} (${bits.join('; ')})` : name;
    });
    return `shell: ${parts.join(', ')}${parsed.data.pipelines ? '; pipelines allowed' : ''}`;
  },
};
