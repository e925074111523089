/**
 * Interpreters and editors that run code they are given: inline (`python3 -c`, `perl -e`,
 * `node --eval`, `gdb -ex`, `vim -c`), a module or a preloaded file (`python3 -m`, `ruby -r`,
 * `node --require`), a script file operand, or a script on standard input (`-`, a pipe, a
 * here-doc). One table: what Warden knows of each, by name (also versioned, `python3.11`, and
 * behind a path). Warden does not read their code, so a deny rule treats an invocation that runs
 * code as running any program (deny-runs.ts), as it does a kubectl plugin; an allow never grants
 * one (injection-catalogue.ts) except a granted `node SCRIPT`. An invocation whose every word
 * only prints and exits (`python3 --version`, `perl -v`) runs no code and is an ordinary command.
 * Build tools and package managers (`make`, `npm`, `cargo`, ...) run a project's code: to a deny
 * rule, like an interpreter; an allow that lists one still grants it (the catalogue omits them).
 * Shells given a script file and programs run by a path: unjudged-code.ts.
 */

/** What Warden knows of one interpreter's words. */
interface Interpreter {
  /** Options that run code (inline text, a module, a file loaded first, a script, an rc file), as spelled. */
  code: readonly string[];
  /** Options that only print something and exit: given these alone, it runs no code. */
  info: readonly string[];
  /**
   * Its operands: the first is the script it runs, files it edits or debugs (never run), or
   * `project`: a build tool or package manager that runs what a project's files give (a
   * Makefile's recipes, package.json scripts, a build script, the program it builds) whatever
   * its words, unless they only print.
   */
  operands: 'script' | 'files' | 'project';
  /** Long options are also spelled with one dash and may be abbreviated (getopt_long_only: gdb, pwsh). */
  abbreviated?: boolean;
  /** `+cmd` runs an editor command (vim; `+` and `+N` only move the cursor). */
  plus?: boolean;
  /** A file operand `!cmd` reads what a shell command prints (ed). */
  bang?: boolean;
}

const HELP = ['-h', '--help'];
const PYTHON: Interpreter = {
  code: ['-c', '-m'],
  info: ['-V', '-VV', '--version', '-?', ...HELP, '--help-env', '--help-xoptions', '--help-all'],
  operands: 'script',
};
const PERL: Interpreter = { code: ['-e', '-E', '-M', '-m', '-x', '-d'], info: ['-v', '-V', '--version', ...HELP], operands: 'script' };
const RUBY: Interpreter = { code: ['-e', '-r', '-x', '-S'], info: ['-v', '--version', '--copyright', ...HELP], operands: 'script' };
const NODE: Interpreter = {
  code: ['-e', '--eval', '-p', '--print', '-i', '--interactive', '-r', '--require', '--import', '--loader', '--experimental-loader', '--env-file',
    '--env-file-if-exists', '--run', '--test', '--openssl-config', '--experimental-config-file'],
  info: ['-v', '--version', ...HELP, '--v8-options'],
  operands: 'script',
};
const PHP: Interpreter = {
  // -d/-c set ini values (auto_prepend_file), -z loads an extension, -S serves (and runs) a document root.
  code: ['-r', '-a', '-f', '-B', '-R', '-F', '-E', '-S', '-d', '-c', '-z', '--run', '--interactive', '--file', '--process-begin',
    '--process-code', '--process-file', '--process-end', '--define', '--php-ini', '--zend-extension'],
  info: ['-v', '--version', ...HELP, '-i', '--info', '-m', '--modules', '--ini'],
  operands: 'script',
};
const PROJECT = (info: string[]): Interpreter => ({ code: [], info, operands: 'project' });
const LUA: Interpreter = { code: ['-e', '-l', '-b', '-j'], info: ['-v'], operands: 'script' };
const SCRIPT_E = (info: string[]): Interpreter => ({ code: ['-e', '-f', '--file'], info, operands: 'script' });
const VIM: Interpreter = {
  // -s reads normal-mode keys from a file (with -e it means silent: counted too), -u a vimrc, nvim -l a Lua script.
  code: ['-c', '--cmd', '-S', '-s', '-u', '-U', '-l', '--remote-send', '--remote-expr'],
  info: ['--version', ...HELP],
  operands: 'files',
  plus: true,
};
const GDB: Interpreter = {
  code: ['-ex', '--eval-command', '-x', '--command', '-iex', '--init-eval-command', '-ix', '--init-command', '-P', '--python'],
  info: ['--version', '-v', ...HELP, '--configuration'],
  operands: 'files',
  abbreviated: true,
};
const JULIA: Interpreter = {
  code: ['-e', '--eval', '-E', '--print', '-L', '--load', '-P', '--post-eval'],
  info: ['-v', '--version', ...HELP, '--help-hidden'],
  operands: 'script',
};
// pwsh reads any word as a script or a command (`-Command`, `-File`, `-EncodedCommand`, positional); its options are case-blind.
const PWSH: Interpreter = { code: ['-command', '-file', '-encodedcommand', '-c', '-f', '-e', '-ec'], info: ['-v', '-version', '--version', '-?', '-h', '-help'], operands: 'script', abbreviated: true };

/** Interpreters by name. */
const BY_NAME: ReadonlyMap<string, Interpreter> = new Map([
  ...['node', 'nodejs'].map((n) => [n, NODE] as const),
  // deno's subcommands (run, eval, task, test, repl) are operands: every one counts as code.
  ['deno', { code: [], info: ['-V', '--version', ...HELP], operands: 'script' }],
  ['bun', { code: ['-e', '--eval', '-p', '--print', '-r', '--preload'], info: ['-v', '--version', ...HELP], operands: 'script' }],
  ['irb', { code: ['-r'], info: ['-v', '--version', ...HELP], operands: 'script' }],
  ['Rscript', SCRIPT_E(['--version', '--help'])],
  ['R', SCRIPT_E(['--version', '--help', '-h'])],
  ['expect', { code: ['-c', '-f', '-D'], info: ['-v'], operands: 'script' }],
  ['osascript', SCRIPT_E([])],
  ['jrunscript', SCRIPT_E(['-help', '-?'])],
  ['jshell', { code: ['-R', '-J', '--startup'], info: ['--version', '-version', ...HELP], operands: 'script' }],
  ['julia', JULIA],
  ...['ghci', 'runghc', 'runhaskell'].map((n) => [n, { code: ['-e', '-ghci-script'], info: ['--version', '--numeric-version', '--help'], operands: 'script' }] as const),
  ...['pwsh', 'powershell'].map((n) => [n, PWSH] as const),
  ['gdb', GDB],
  ...['vim', 'vi', 'nvim', 'ex', 'view', 'vimdiff', 'gvim', 'evim'].map((n) => [n, VIM] as const),
  // ed reads its commands (`!cmd` among them) from standard input only.
  ['ed', { code: [], info: ['-V', '--version', ...HELP], operands: 'files', bang: true }],
  // Build tools and package managers (`make`, `npm run`, `npx`, `cargo run`, `go run`, `rake`, ...): every invocation but a version or help check.
  ...['make', 'gmake', 'bmake', 'just', 'task', 'rake'].map((n) => [n, PROJECT(['-v', '-V', '--version', ...HELP])] as const),
  ...['npm', 'npx', 'yarn', 'pnpm', 'pnpx'].map((n) => [n, PROJECT(['-v', '--version', ...HELP])] as const),
  ['cargo', PROJECT(['-V', '--version', ...HELP, 'version'])],
  ['go', PROJECT(['version', 'help'])],
  // rpmbuild and rpmspec expand a spec file's macros, which run shell commands (`%(cmd)`) and Lua; rpmlua runs Lua.
  ...['rpmbuild', 'rpmspec'].map((n) => [n, PROJECT(['--version', ...HELP])] as const),
  ['rpmlua', { code: ['-e', '-i'], info: ['--version', ...HELP], operands: 'script' }],
]);
/** Versioned names: python3.11, pypy3, perl5.36, ruby3.2, php8.2, lua5.4, luajit, tclsh8.6, wish8.6. */
const BY_PATTERN: readonly (readonly [RegExp, Interpreter])[] = [
  [/^(python|pypy)[0-9.]*$/, PYTHON],
  [/^perl[0-9.]*$/, PERL],
  [/^j?ruby[0-9.]*$/, RUBY],
  [/^php[0-9.]*$/, PHP],
  [/^(lua[0-9.]*|luajit[\w.-]*)$/, LUA],
  [/^(tclsh|wish)[0-9.]*$/, { code: [], info: [], operands: 'script' }],
];

/** The interpreter `base` (a program's last path component) is, or undefined. */
function interpreterOf(base: string): Interpreter | undefined {
  return BY_NAME.get(base) ?? BY_PATTERN.find(([re]) => re.test(base))?.[1];
}

/** Is `base` an interpreter Warden knows (table above)? */
export function isInterpreter(base: string): boolean {
  return interpreterOf(base) !== undefined;
}

/** Does `base args` only print and exit (`python3 --version`, `perl -v`)? False for any other program. */
export function printsOnly(base: string, args: readonly string[]): boolean {
  const it = interpreterOf(base);
  const fold = (w: string): string => (it === PWSH ? w.toLowerCase() : w);
  return it !== undefined && args.length > 0 && args.every((a) => it.info.includes(fold(a)));
}

/** Does option word `w` (not `-`, not `--`) use one of `it`'s code options? Generous: any letter of a cluster counts. */
function codeOption(it: Interpreter, w: string): string | null {
  const name = (it === PWSH ? w.toLowerCase() : w).split('=', 1)[0] as string;
  if (it.code.includes(name)) return name;
  if (it.abbreviated === true) {
    const bare = name.replace(/^--?/, '');
    const hit = it.code.find((c) => bare.length >= 2 && c.replace(/^--?/, '').startsWith(bare));
    if (hit !== undefined) return hit;
  }
  if (w.startsWith('--') || it.abbreviated === true) return null;
  for (const c of w.slice(1)) if (it.code.includes(`-${c}`)) return `-${c}`;
  return null;
}

/**
 * How an interpreter invocation runs code: `code`, given to an option (`-c`, `-e`, `-m`, `-r`,
 * `+cmd`, ...); `script`, a file operand it runs; `stdin`, only what it may read on standard
 * input (code runs only when the line feeds it: `-`, or no script at all).
 */
export interface InterpreterCode { kind: 'code' | 'script' | 'stdin'; why: string }

/**
 * What `base args` runs, if `base` is an interpreter; null when it is none or only prints and
 * exits. Fail closed: an option's value Warden cannot tell from an operand counts as a script.
 */
export function interpreterCode(base: string, args: readonly string[]): InterpreterCode | null {
  const it = interpreterOf(base);
  if (it === undefined || printsOnly(base, args)) return null;
  if (it.operands === 'project') return { kind: 'code', why: `${base} runs the commands a project's files give (a Makefile, package scripts, a build script), which Warden does not read` };
  const stdin: InterpreterCode = { kind: 'stdin', why: `${base} reads code on standard input` };
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      const script = it.operands === 'script' ? args[i + 1] : undefined;
      if (script === undefined || script === '-') return stdin;
      return { kind: 'script', why: `${base} runs the script file '${script}', whose code Warden does not read` };
    }
    if (it.plus === true && /^\+(?!\d*$)/.test(w)) return { kind: 'code', why: `${base} ${w} runs an editor command` };
    if (w === '-' || !w.startsWith('-')) {
      if (it.bang === true && w.startsWith('!')) return { kind: 'code', why: `${base} '${w}' runs a shell command` };
      if (it.operands === 'files') continue;
      if (w === '-') return stdin;
      return { kind: 'script', why: `${base} runs the script file '${w}' (or an option's value Warden takes for one), whose code Warden does not read` };
    }
    const opt = codeOption(it, w);
    if (opt !== null) return { kind: 'code', why: `${base} ${opt} (in '${w}') runs code Warden does not read` };
  }
  return stdin;
}

/**
 * Environment variables that make interpreters run code (a file run at start, options, a path
 * modules load from), beyond the shells' own: the deny side treats them as loading code Warden
 * cannot read, and no allow grants an assignment (runners.ts LOADER_VARIABLES).
 */
export const INTERPRETER_VARIABLES: readonly string[] = [
  'PYTHONHOME', 'PYTHONWARNINGS', 'PYTHONBREAKPOINT', 'PYTHONINSPECT', 'PYTHONUSERBASE', 'PERL5DB', 'PERLLIB', 'PERL5SHELL',
  'LUA_INIT', 'LUA_INIT_5_1', 'LUA_INIT_5_2', 'LUA_INIT_5_3', 'LUA_INIT_5_4', 'LUA_PATH', 'LUA_CPATH', 'NODE_REPL_EXTERNAL_MODULE',
  'PHPRC', 'PHP_INI_SCAN_DIR', 'TCLLIBPATH', 'R_PROFILE', 'R_PROFILE_USER', 'R_ENVIRON', 'R_ENVIRON_USER', 'R_LIBS', 'R_LIBS_USER',
  'JULIA_DEPOT_PATH', 'JULIA_LOAD_PATH', 'VIMINIT', 'EXINIT', 'RUBYGEMS_GEMDEPS',
];
