/**
 * What a `shell:` deny rule must judge in one command: the command itself, the program a
 * wrapper runs (`nice rm`, `find -exec rm`, `sudo bash -c ...`), names in a script runner's
 * arguments, shell text a runner executes (parsed by the caller, deny-rule.ts), and "may run
 * any program" when what runs is not written out (a computed word, a script on stdin).
 */
import { gitConfigDanger, gitGuardLength } from './git-config.js';
import { DENIED_FLAGS, deniedFlag, GIT_CONFIG_FLAGS, injectionReason, PAGERS } from './injection-catalogue.js';
import {
  AWKS, ESCAPING, evaluatedWords, INTERPRETER_PATTERN, INTERPRETERS, NAME_READERS, POSIX_SHELLS, programBase, runsNamedProgram, SEDS, SHELL_TEXT_RUNNERS,
  SHELLS, SSH_FAMILY, variableRuns, WRAPPERS,
} from './runners.js';
import { callbackTexts, crontabFromStdin, fillsIn, gpgPhoto, multiCallName, socatRun, straceCommands } from './indirect-runs.js';
import { HOP_PROGRAMS, hopRuns } from './exec-hops.js';
import { isInterpreter } from './interpreters.js';
import { codeRun, programWords, unjudgedProgram } from './unjudged-code.js';
import { bareShell, commandOption, envSplits, findExecWords, pipedScript, shellScript, sshRemote } from './runner-args.js';
import { awkDanger, sedExecDanger } from './script-checks.js';
import type { ShellCommand, ShellConstruct } from './types.js';
import { commandVariables, expandedText } from './assignment-runs.js';
import { globMatcher } from './glob-match.js';

/**
 * A listed program with the words after it (`why` says how it is reached; with `why` and no
 * words it is judged outright), shell text to parse and judge outright, or a reason the
 * command may run any program.
 */
export type Run =
  | { kind: 'program'; program: string; args: string[]; why?: string; redirects?: string[] }
  | { kind: 'script'; text: string; why: string; bash?: true }
  | { kind: 'any'; why: string };

/** Wrappers beyond the catalogue's "runs other programs" (which it judges by their flags); `hash -p PATH NAME` makes NAME run PATH. */
const OTHER_WRAPPERS = new Set(['env', 'find', 'ip', 'busybox', 'toybox', 'hash']);
const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);
/** Builtins that set the variables their `NAME=value` words name (tree-sitter's declaration commands). */
const DECLARATIONS = new Set(['export', 'declare', 'typeset', 'local', 'readonly']);
/** Builtins that set a variable they name to a value Warden cannot read (input, a format, an option). */
const INPUT_SETTERS = new Set(['read', 'mapfile', 'readarray', 'printf', 'getopts']);
/** Runners whose every argument word is searched for listed names (their own flags are not judged). */
const SCANNED = new Set([
  ...SHELLS.filter((s) => s !== 'busybox' && s !== 'toybox'), 'eval', 'source', '.', 'su', 'script', 'trap', 'node', 'nodejs', 'hash',
  ...INTERPRETERS, ...AWKS, ...SEDS, ...PAGERS, ...ESCAPING,
]);
/** Programs that run something their arguments say (everything else is judged only by its name). */
const RUNNERS = new Set([
  ...SCANNED, ...WRAPPERS, ...OTHER_WRAPPERS, ...SHELL_TEXT_RUNNERS, 'runuser', ...DECLARATIONS, ...INPUT_SETTERS, ...SSH_FAMILY, 'git',
  'alias', 'enable', 'crontab', 'compgen', 'complete', ...NAME_READERS, ...Object.keys(DENIED_FLAGS), ...HOP_PROGRAMS, 'socat',
]);

/** Constructs that compute words: a word a wrapper runs may then name any program. */
const EXPANSIONS: ReadonlySet<ShellConstruct> = new Set<ShellConstruct>([
  'parameter_expansion', 'command_substitution', 'process_substitution', 'arithmetic_expansion', 'brace_expansion', 'glob', 'tilde',
]);
/** Constructs that can give a command a script on standard input or as a pipe. */
const FEEDS: ReadonlySet<ShellConstruct> = new Set<ShellConstruct>([
  'pipeline', 'pipe_stderr', 'heredoc', 'herestring', 'redirection', 'process_substitution',
]);

/**
 * Whether a `{` in `word` is followed, before the next `}`, by `,` or `..` (what bash may expand),
 * read in one pass. Why not `/\{[^}]*(,|\.\.)/`: from every `{` with no `}` after it that read on
 * to the word's end, quadratic in a word of many `{`.
 */
export function braceList(word: string): boolean {
  let open = false;
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (c === '{') open = true;
    else if (c === '}') open = false;
    else if (open && (c === ',' || (c === '.' && word[i + 1] === '.'))) return true;
  }
  return false;
}

/** Why a word a wrapper runs may be any listed program (the line has expansions), or null. */
function notLiteral(word: string, names: ReadonlySet<string>): string | null {
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) return null; // NAME=value: an assignment for env or sudo, never a program
  if (/[$`]/.test(word)) return `'${word}' is computed`;
  if (braceList(word)) return `'${word}' is a brace expansion`;
  const base = programBase(word);
  if (base.startsWith('~')) return `'${word}' is a tilde expansion`;
  if (/[*?[]/.test(base)) {
    const glob = globMatcher(base); // built once per word, tried against every listed name
    for (const n of names) if (glob(n)) return `the glob '${word}' may name a denied program`;
  }
  return null;
}

/**
 * What a script runner `base` runs, from its arguments. `fed`: the line can put a script on
 * standard input (a pipe, heredoc, herestring, redirection or process substitution); without
 * one, ssh_run and kubectl_exec give the command none.
 */
function scriptRuns(base: string, args: string[], names: ReadonlySet<string>, fed: boolean): Run[] {
  const out: Run[] = [];
  const any = (why: string): void => void out.push({ kind: 'any', why });
  const script = (text: string): void => {
    // A plain word runs the program it names; anything else is parsed (by deny-rule.ts), as bash
    // reads it only when bash runs it (`sh`, `su -c`, `eval` in a shell Warden does not know: POSIX).
    if (text.trim() === '') return;
    if (!/^[\w./:@%+,-]*$/.test(text)) out.push({ kind: 'script', text, why: `in a script run by ${base}`, ...(base === 'bash' ? { bash: true as const } : {}) });
    else if (names.has(programBase(text))) out.push({ kind: 'program', program: programBase(text), args: [], why: `in a script run by ${base}` });
  };
  const operands = args.filter((a) => !a.startsWith('-'));
  for (const w of evaluatedWords(base, args)) {
    if (/[$`]/.test(w)) out.push({ kind: 'script', text: expandedText(w), why: `in '${w}', a variable name ${base} reads (bash evaluates its subscript)` });
  }
  if (SCANNED.has(base) || INTERPRETER_PATTERN.test(base)) {
    for (const w of args.flatMap((a) => a.split(/[^\w./+-]+/))) {
      const b = programBase(w);
      if (names.has(b)) out.push({ kind: 'program', program: b, args: [], why: `named in a script run by ${base}` });
    }
  }
  // Code an interpreter, editor, build tool or shell is given (a script file, `source x`) is not read: it runs any program (unjudged-code.ts).
  const code = codeRun(base, args);
  if (code !== null && (code.kind !== 'stdin' || fed)) any(code.kind === 'stdin' ? `${code.why}, which the line feeds` : code.why);
  if (fed && bareShell(base, args)) any(`${base} without a program runs a shell on standard input`);
  callbackTexts(base, args).forEach(script);
  if (base === 'strace') straceCommands(args).forEach(script);
  const socat = base === 'socat' ? socatRun(args) : null;
  if (socat !== null) any(`socat address '${socat}' runs a program`);
  const photo = gpgPhoto(base, args);
  if (photo !== null) any(`${base} '${photo}' runs the photo viewer, a shell command`);
  if (fed && ESCAPING.has(base)) any(`${base} reads commands on standard input, where a shell escape runs any program`);
  if (fed && base === 'crontab' && crontabFromStdin(args)) any('crontab installs a table from standard input, whose commands run later');
  if (SHELLS.includes(base) && !OTHER_WRAPPERS.has(base)) {
    const s = shellScript(args);
    if (s === 'stdin') {
      if (fed) any(`${base} reads its script from standard input`);
    } else if (s !== null) { // null: a script file, which codeRun counted above
      if (!POSIX_SHELLS.has(base)) any(`${base} runs a script in a grammar Warden does not parse`);
      else if (s.texts.length === 0) any(`${base} -c gets its script from elsewhere`);
      else s.texts.forEach(script);
    }
  } else if (base === 'eval') {
    script(args.join(' '));
  } else if (base === 'source' || base === '.') {
    if (fed && pipedScript(operands[0])) any(`${base} reads a script from a pipe`);
  } else if (SHELL_TEXT_RUNNERS.has(base) || base === 'runuser') {
    // su, script and runuser without -c (runuser: nor -u) run a shell on standard input.
    const direct = base === 'runuser' && args.some((a) => /^(-u|--user)/.test(a));
    if (fed && ['su', 'script', 'runuser'].includes(base) && !direct && !args.some(commandOption)) any(`${base} runs a shell on standard input`);
    if (fed && (base === 'at' || base === 'batch')) any(`${base} runs the commands on its standard input`);
    // Each operand alone: a text that only runs on into the next one has unbalanced quotes, which do not parse.
    if (base !== 'runuser') operands.forEach(script);
  } else if (AWKS.has(base) || SEDS.has(base)) {
    // With no words at all it runs nothing, unless a feed gives it some (`... | xargs awk`).
    const d = args.length === 0 && !fed ? null : AWKS.has(base) ? awkDanger(args) : sedExecDanger(args);
    if (d !== null) any(`${base}: ${d}`);
  } else if (base === 'env' && envSplits(args)) {
    any('env -S splits a command line Warden does not read');
  } else if (DECLARATIONS.has(base)) {
    out.push(...commandVariables(args, base));
    if (args.some((a) => /^-[A-Za-z]*n/.test(a))) any(`${base} -n makes a name reference, which may set a command-running variable`);
    const computed = args.find((a) => /[$`]/.test(a.split('=', 1)[0] as string));
    if (computed !== undefined) any(`${base} sets a variable whose name '${computed}' is computed`);
  } else if (INPUT_SETTERS.has(base) && (base !== 'printf' || args.some((a) => /^-[A-Za-z]*v/.test(a)))) {
    // printf sets a variable only with -v (`-vNAME` too).
    const hit = args.map((a) => a.replace(/^-[A-Za-z]*v(?=[A-Za-z_])/, '')).find((a) => /[$`]/.test(a) || variableRuns(a) !== null);
    if (hit !== undefined) any(`${base} sets '${hit}' to a value Warden cannot read`);
  } else if (base === 'alias') {
    // dash, and bash with expand_aliases, expand an alias on the lines after it: its value is shell text.
    for (const a of args) if (/^[^-=][^=]*=/.test(a)) script(a.slice(a.indexOf('=') + 1));
  } else if (base === 'enable') {
    if (args.some((a) => /^-[A-Za-z]*f/.test(a))) any('enable -f loads a builtin from a shared library');
  } else if (base === 'git') {
    const config = gitConfigDanger(args.slice(gitGuardLength(args))); // Warden's own guard (git-guard.ts) runs nothing
    if (config !== null) any(config.replace(/\.$/, ''));
  } else if (SSH_FAMILY.has(base)) {
    const inj = injectionReason({ program: base, args, assignments: [] }, fed);
    if (inj !== null) any(inj.replace(/\.$/, ''));
    const remote = base === 'ssh' ? sshRemote(args) : null;
    // The remote user's shell parses the joined words: judged like `sh -c` (also a single word, which may read fed input).
    if (remote !== null && 'unknown' in remote) any(remote.unknown);
    else if (remote !== null && remote.command.length > 0) out.push({ kind: 'script', text: remote.command.join(' '), why: 'in the remote command of ssh' });
  }
  // A catalogue flag runs a program it names (`tar --to-command=X`, `sort --compress-program=X`,
  // `git --ext-diff`) or reads a list Warden cannot see. find: its -exec is judged as a wrapper; ssh and kin above.
  const flag = base === 'find' || SSH_FAMILY.has(base) ? null : deniedFlag(base, args, base === 'git' ? GIT_CONFIG_FLAGS : []);
  if (flag !== null) any(`${base} ${flag.flag} (spelled '${flag.word}') can run a program`);
  return out;
}

/** What the line around a command can do to it. */
export interface LineTraits {
  /** It has expansions, so a word a wrapper runs may be computed. */
  expanding: boolean;
  /** It can put a script on a command's standard input (see scriptRuns). */
  fed: boolean;
}

/**
 * The traits of a line from its constructs. Why the whole line: ssh_run and kubectl_exec give a
 * command no standard input, so only a construct of the line can feed one (generously: any pipe).
 */
export function lineTraits(constructs: readonly ShellConstruct[]): LineTraits {
  return { expanding: constructs.some((c) => EXPANSIONS.has(c)), fed: constructs.some((c) => FEEDS.has(c)) };
}

/** Listed programs and runners one command may reach; more match (fail closed) instead of costing time. */
const MAX_RUNNERS = 32;

/** Everything a deny rule listing `names` must judge in `cmd`. */
export function runsOf(cmd: ShellCommand, names: ReadonlySet<string>, line: LineTraits): Run[] {
  const words = [cmd.program, ...cmd.args];
  const out: Run[] = commandVariables(cmd.assignments, cmd.program === '' ? 'an assignment in the line' : 'an assignment');
  const seen = new Set<number>();
  let runners = 0;
  // What find, xargs or parallel fill in (indirect-runs.ts), judged where they start a command and after wrappers there.
  // visit's `first`: a program stands there (the command's, the first word after a wrapper, behind -exec): a path is judged.
  const marks: string[] = [];
  let appending: string | null = null;
  const filled = new Set<number>();
  const visit = (at: number, via: string | undefined, first = true): void => {
    if (seen.has(at) || runners > MAX_RUNNERS) return;
    seen.add(at);
    const word = multiCallName(via, words[at] as string);
    const base = programBase(word);
    const computed = (via !== undefined && line.expanding ? notLiteral(word, names) : null) ?? (first ? unjudgedProgram(word) : null);
    if (computed !== null) out.push({ kind: 'any', why: via === undefined ? computed : `${computed} (run through ${via})` });
    if (filled.has(at) && marks.some((m) => word.includes(m))) out.push({ kind: 'any', why: `'${word}' is filled in with a file name or input words Warden cannot see (run through ${via})` });
    if (!names.has(base) && !RUNNERS.has(base) && !isInterpreter(base) && !runsNamedProgram(base)) return;
    if (appending !== null && filled.has(at)) out.push({ kind: 'any', why: `${appending} appends input words to ${base}, which may name a program or options that run one` });
    if (++runners > MAX_RUNNERS) {
      out.push({ kind: 'any', why: `${cmd.program} reaches more than ${MAX_RUNNERS} programs and wrappers` });
      return;
    }
    const rest = via === 'find' ? findExecWords(words.slice(at + 1)) : words.slice(at + 1);
    if (names.has(base)) out.push(via === undefined ? { kind: 'program', program: base, args: rest } : { kind: 'program', program: base, args: rest, why: `run through ${via}` });
    const fills = fillsIn(base, rest, line.fed);
    if (fills !== null) {
      marks.push(...fills.marks);
      if (fills.appends) appending = base;
      for (const s of fills.starts) filled.add(at + 1 + s);
    }
    for (const run of scriptRuns(base, rest, names, line.fed)) {
      const f = run.kind === 'script' && marks.some((m) => run.text.includes(m));
      out.push(f ? { kind: 'any', why: `shell text ${run.why} is filled in with a file name or input words Warden cannot see` } : run);
    }
    const hop = hopRuns(base, rest, line); // `kubectl exec POD -- CMD`, `docker exec -e GIT_SSH_COMMAND=...`, ... (exec-hops.ts)
    out.push(...hop.runs, ...commandVariables(hop.env, `${base} for the command it runs`));
    if (hop.start !== null) visit(at + 1 + hop.start, base);
    const wraps = runsNamedProgram(base) || OTHER_WRAPPERS.has(base);
    if (wraps && filled.has(at)) for (let i = at + 1; i < words.length; i++) filled.add(i); // a filled-in wrapper fills in every word after it
    if (wraps) {
      out.push(...commandVariables(rest, base)); // `env GIT_SSH_COMMAND=... git`, `sudo PAGER=... git`
      const stands = programWords(base, rest); // a program may stand anywhere (after find: behind -exec); a path only where this says
      if (stands.unknown !== undefined) out.push({ kind: 'any', why: stands.unknown });
      for (let i = 0; i < rest.length; i++) if (base !== 'find' || FIND_EXEC.has(rest[i - 1] ?? '')) visit(at + 1 + i, base, base === 'find' || stands.at.has(i));
    }
  };
  visit(0, undefined);
  return out;
}
