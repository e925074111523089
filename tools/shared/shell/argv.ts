/**
 * argv without a shell (kubectl_exec): one command, no constructs. `sh -c SCRIPT` is the one
 * shell form accepted, and its script goes through the full shell parser.
 */
import { parseError } from '../../../src/tool-api.js';
import { MAX_SHELL_BYTES, finish, parseShell } from './parse.js';
import { POSIX_SHELLS } from './runners.js';
import type { ShellFacts } from './types.js';

/** Facts for an argv that runs with no shell. Why refuse empty/NUL: the runtime would misread them. */
export function parseArgv(argv: string[]): ShellFacts {
  if (!Array.isArray(argv) || argv.length === 0) throw parseError('empty argv');
  let bytes = 0;
  for (const a of argv) {
    if (typeof a !== 'string') throw parseError('argv entries must be strings');
    if (a.includes('\0')) throw parseError('argv contains a NUL byte');
    bytes += Buffer.byteLength(a, 'utf8') + 1;
  }
  if (bytes > MAX_SHELL_BYTES) throw parseError(`argv longer than ${MAX_SHELL_BYTES} bytes`);
  const [program, ...args] = argv as [string, ...string[]];
  if (program === '') throw parseError('empty program name');
  return finish([{ program, args, assignments: [] }], 0, [], 'argv');
}

const SHELL_DIRS = new Set(['', '/bin/', '/usr/bin/']);

function shellName(program: string): string | null {
  const slash = program.lastIndexOf('/');
  const dir = program.slice(0, slash + 1);
  const base = program.slice(slash + 1);
  return SHELL_DIRS.has(dir) && POSIX_SHELLS.has(base) ? base : null;
}

/**
 * `sh|bash|ash|dash -c SCRIPT` (also as /bin/X or /usr/bin/X): parse SCRIPT as a shell line.
 * Returns null when argv is not a shell invocation at all (use parseArgv). Throws for any
 * other shape of shell invocation with -c (extra operands, combined flags such as -lc).
 * Why: `$0`/`$1` operands and shell options change what the script does.
 */
export function unwrapShellC(argv: string[]): ShellFacts | null {
  if (!Array.isArray(argv) || argv.length === 0) throw parseError('empty argv');
  const first = argv[0] as string;
  if (shellName(first) === null) return null;
  const rest = argv.slice(1);
  const usesC = rest.some((a) => /^-[A-Za-z]*c/.test(a) || a === '--command');
  if (!usesC) return null;
  if (rest.length !== 2 || rest[0] !== '-c') {
    throw parseError(`only '${first} -c SCRIPT' is accepted (no other options or operands)`);
  }
  const facts = parseShell(rest[1] as string);
  // A script with more than pipes runs as written (kubectl-exec.ts argvToRun), by the container's
  // sh, which may be dash: bash syntax it reads apart is refused (posix-syntax.ts). A rebuilt one
  // reaches the shell as quoted words only.
  if (shellName(first) !== 'bash' && facts.constructs.some((c) => c !== 'pipeline')) parseShell(rest[1] as string, 'posix');
  return { ...facts, source: 'sh-c' };
}
