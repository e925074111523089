/**
 * Code a deny rule cannot read, beyond the interpreters' table (interpreters.ts): a shell given a
 * script file (`bash x.sh`, `sh -- x`, `zsh x`, an rc file), a script sourced into the shell
 * (`source x.sh`, `. x.sh`), and a program named by a path outside the system's program folders
 * (`./x.sh`, `/srv/app/run`, `~/bin/x`), whose name says nothing of what it runs. deny-runs.ts
 * treats each as running any program (`{kind:'any'}`), as it does an interpreter given code. An
 * allow needs nothing here: it never grants a shell, `source` or a program given as a path.
 */
import { interpreterCode, type InterpreterCode } from './interpreters.js';
import { lexicalPath } from './paths.js';
import { pipedScript, shellScript } from './runner-args.js';
import { LOADER_PATTERN, programBase, SHELLS } from './runners.js';
import { commandOption } from './runner-args.js';
import { crontabTable, xargsStart } from './indirect-runs.js';
import { wrappedProgram } from './wrapper-options.js';

/** What `base args` runs that Warden does not read: an interpreter's code (interpreters.ts), a shell's script file, a sourced file; or null. */
export function codeRun(base: string, args: readonly string[]): InterpreterCode | null {
  const code = interpreterCode(base, args);
  if (code !== null) return code;
  // busybox and toybox name their shell in the next word, which deny-runs.ts judges as a program of its own.
  if (SHELLS.includes(base) && base !== 'busybox' && base !== 'toybox') return shellFile(base, [...args]);
  if (base === 'su' || base === 'runuser') return suCode(base, args);
  if (base === 'eval' || base === 'script') return pathText(base, args);
  if (base === 'crontab') {
    const t = crontabTable(args);
    if (t !== null && t !== 'stdin') return { kind: 'code', why: `crontab installs the table '${t.file}', whose commands run later and which Warden does not read` };
  }
  if (base === 'source' || base === '.') {
    const file = args.find((a) => a !== '--');
    // No file: nothing runs; a pipe or /dev/stdin: deny-runs.ts judges it by whether the line feeds it.
    if (file === undefined || pipedScript(file)) return null;
    return { kind: 'script', why: `${base} runs the script file '${file}' in the shell, whose code Warden does not read` };
  }
  return null;
}

/**
 * A shell's script file or rc file, or null (`-c` text is parsed and judged by deny-runs.ts, and a
 * script on standard input counts only when the line feeds it). `sh -n x` only checks the syntax,
 * yet counts: fail closed.
 */
function shellFile(base: string, args: string[]): InterpreterCode | null {
  const rc = args.find((a) => /^--(rcfile|init-file)(=|$)/.test(a));
  if (rc !== undefined) return { kind: 'code', why: `${base} ${rc} runs a start-up file, whose code Warden does not read` };
  if (shellScript(args) !== null) return null;
  const at = args.findIndex((a, i) => !/^[-+]/.test(a) && !/^-[A-Za-z]*[oO]$|^--(rcfile|init-file)$/.test(args[i - 1] ?? ''));
  const file = at < 0 ? 'an operand' : `'${args[at] as string}'`;
  return { kind: 'script', why: `${base} runs the script file ${file}, whose code Warden does not read` };
}

/** Folders whose programs are the system's own (a deny rule judges them by name). */
const SYSTEM_FOLDERS: ReadonlySet<string> = new Set(['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']);
/** Where the dynamic loader lives (`/lib64/ld-linux-x86-64.so.2`, `/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`). */
const LOADER_FOLDER = /^\/(usr\/)?lib(32|64|x32)?(\/[\w.-]+)?$/;

/**
 * Why a program word names a program Warden cannot judge by its name, or null: a path (it holds
 * `/`) that is relative, starts with `~` or is computed, or leads outside the system's program
 * folders (`/srv/app/x.sh`, `/tmp/x`, `/usr/bin/../../tmp/x`). A bare name is judged as it is.
 */
export function unjudgedProgram(word: string): string | null {
  if (!word.includes('/')) return null;
  const p = lexicalPath(word);
  if (p !== null && !/[$`*?[]/.test(p)) {
    const dir = p.slice(0, p.lastIndexOf('/')) || '/';
    if (SYSTEM_FOLDERS.has(dir) || (LOADER_PATTERN.test(programBase(p)) && LOADER_FOLDER.test(dir))) return null;
  }
  return `the program '${word}' is named by a path outside the system's program folders (${[...SYSTEM_FOLDERS].join(', ')}), so its name says nothing of what it runs`;
}

/** su's and runuser's short options that take a value (util-linux 2.39: -c command, -g, -G, -s shell, -w, runuser -u). */
const SU_VALUES = 'cgGswu';

/**
 * What su (or runuser without -u) runs that Warden does not read: a `-c` command that is a program
 * path (`su app -c ./x`; other -c text is parsed by deny-runs.ts), or words after the user, which
 * go to the user's shell, whose first is a script file (`su app ./x` runs `sh ./x`).
 */
function suCode(base: string, args: readonly string[]): InterpreterCode | null {
  if (base === 'runuser' && args.some((a) => /^(-[A-Za-z]*u|--user)/.test(a))) return null; // a wrapper: wrapper-options.ts
  let user = false;
  let command = false;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (commandOption(w)) {
      const text = w.includes('=') ? w.slice(w.indexOf('=') + 1) : (args[++i] ?? '');
      command = true;
      const why = /^[\w./~-]+$/.test(text) ? unjudgedProgram(text) : null;
      if (why !== null) return { kind: 'script', why: `${base} -c runs ${why}` };
    } else if (w === '-' || w === '--' || !w.startsWith('-')) {
      if (w !== '-' && w !== '--' && user && !command) return { kind: 'script', why: `${base} gives '${w}' to the user's shell, which runs it as a script file Warden does not read` };
      if (w !== '-' && w !== '--') user = true;
    } else if (!w.startsWith('--') && SU_VALUES.includes(w[w.length - 1] as string)) i++;
    else if (/^--(group|supp-group|shell|whitelist-environment)$/.test(w)) i++;
  }
  return null;
}

/**
 * A path as the whole shell text eval or `script -c` runs (`eval ./x`, `script -qc ./x`): a plain
 * word deny-runs.ts judges by name only; other text it parses, a path at its program word too.
 */
function pathText(base: string, args: readonly string[]): InterpreterCode | null {
  const at = args.findIndex(commandOption);
  const w = args[at] ?? '';
  const text = base === 'eval' ? args.join(' ') : at < 0 ? '' : w.includes('=') ? w.slice(w.indexOf('=') + 1) : (args[at + 1] ?? '');
  const why = /^[\w./~-]+$/.test(text) ? unjudgedProgram(text) : null;
  return why === null ? null : { kind: 'script', why: `${base} runs ${why}` };
}

/** Wrappers whose first word is a folder or a lock file, with the program after it, when wrapper-options.ts does not model them. */
const PATH_FIRST: ReadonlySet<string> = new Set(['envdir', 'setlock', 'lckdo']);

/**
 * Wrappers (runners.ts WRAPPERS) whose options and operands wrapper-options.ts does not model:
 * where their program stands is unknown (`parallel -j4 ./x`, `firejail --noprofile ./x`,
 * `faketime '1 day' ./x`), so each runs any program to a deny rule, fail closed. A test keeps
 * every wrapper modelled, handled on its own (xargs, PATH_FIRST, coreutils, coproc) or here.
 */
export const OPAQUE_WRAPPERS: ReadonlySet<string> = new Set([
  'systemd-run', 'parallel', 'sem', 'setarch', 'linux32', 'linux64', 'sg', 'firejail', 'catchsegv', 'unbuffer', 'rlwrap', 'faketime', 'proxychains',
  'proxychains4', 'torsocks', 'torify', 'tsocks', 'caffeinate', 'gosu', 'su-exec', 'runcon', 'numactl', 'dumb-init', 'catatonit',
  'chpst', 'cgexec', 's6-setuidgid', 'start-stop-daemon', 'systemd-nspawn', 'eatmydata', 'run0', 'sshpass', 'bwrap', 'dbus-launch',
  'xvfb-run', 'chronic', 'ifne', 'perf', 'setuidgid', 'softlimit', 'daemonize', 'nocache', 'trickle', 'cpulimit', 'entr', 'gpg-agent',
]);

/**
 * Where, among the words after the wrapper `base`, its program may stand, so that a path there is
 * judged by unjudgedProgram: past its options (wrapper-options.ts; xargs by indirect-runs.ts), or
 * the first word (the second for PATH_FIRST) of another wrapper. `unknown`: an option Warden does
 * not know hides the program word, or the wrapper is opaque, so it may run any program.
 */
export function programWords(base: string, args: readonly string[]): { at: ReadonlySet<number>; unknown?: string } {
  if (base === 'xargs') return { at: new Set([xargsStart(args)]) };
  const w = wrappedProgram(base, args);
  if (w === null && OPAQUE_WRAPPERS.has(base)) return { at: new Set([0]), unknown: `${base} has options Warden does not model, so the program it runs cannot be found` };
  if (w === null) return { at: new Set([PATH_FIRST.has(base) ? 1 : 0]) };
  if ('unknown' in w) return { at: new Set(), unknown: `${w.unknown}, so the program ${base} runs cannot be found` };
  return { at: new Set(w.at) };
}
