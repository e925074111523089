/**
 * Code a deny rule cannot read, beyond the interpreters' table (interpreters.ts): a shell given a
 * script file (`bash x.sh`, `sh -- x`, `zsh x`, an rc file), a script sourced into the shell
 * (`source x.sh`, `. x.sh`), and a program named by a path outside the system's program folders
 * (`./x.sh`, `/srv/app/run`, `~/bin/x`), whose name says nothing of what it runs. deny-runs.ts
 * treats each as running any program (`{kind:'any'}`), as it does an interpreter given code. An
 * allow needs nothing here: it never grants a shell, `source` or a program given as a path.
 */
import { interpreterCode, type InterpreterCode } from './interpreters.js';
import { normalisePath } from './paths.js';
import { pipedScript, shellScript } from './runner-args.js';
import { LOADER_PATTERN, programBase, SHELLS } from './runners.js';

/** What `base args` runs that Warden does not read: an interpreter's code (interpreters.ts), a shell's script file, a sourced file; or null. */
export function codeRun(base: string, args: readonly string[]): InterpreterCode | null {
  const code = interpreterCode(base, args);
  if (code !== null) return code;
  // busybox and toybox name their shell in the next word, which deny-runs.ts judges as a program of its own.
  if (SHELLS.includes(base) && base !== 'busybox' && base !== 'toybox') return shellFile(base, [...args]);
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
  const p = normalisePath(word);
  if (p !== null && !/[$`*?[]/.test(p)) {
    const dir = p.slice(0, p.lastIndexOf('/')) || '/';
    if (SYSTEM_FOLDERS.has(dir) || (LOADER_PATTERN.test(programBase(p)) && LOADER_FOLDER.test(dir))) return null;
  }
  return `the program '${word}' is named by a path outside the system's program folders (${[...SYSTEM_FOLDERS].join(', ')}), so its name says nothing of what it runs`;
}

/** Wrappers whose first word is a folder or a lock file, with the program after it (`chroot /srv/root ls`, `flock /tmp/l ls`). */
const PATH_FIRST: ReadonlySet<string> = new Set(['chroot', 'envdir', 'flock', 'setlock', 'lckdo']);

/**
 * Is the `i`th word after the wrapper `base` where its program stands, so that a path there is
 * judged by unjudgedProgram? The first word (the second for PATH_FIRST). A program behind the
 * wrapper's options (`sudo -u app ./x`, `timeout 5 ./x`) is not: its options are not modelled here.
 */
export function programStands(base: string, i: number): boolean {
  return i === (PATH_FIRST.has(base) ? 1 : 0);
}
