/**
 * Canonical rebuild: the command line that actually runs is rebuilt from parsed words,
 * never the raw input, so the host's shell can only ever see plain quoted words and pipes.
 */
import { parseError } from '../../../src/tool-api.js';
import { gitRepoCheck } from './git-repo-check.js';
import { startupEnvironment, withoutStartupFiles } from './startup-files.js';
import type { ShellCommand, ShellFacts } from './types.js';

/** Quote one word for a POSIX shell. Why always quote: no character can ever become syntax. */
export function quoteWord(word: string): string {
  if (word.includes('\0')) throw parseError('word contains a NUL byte');
  if (/^[A-Za-z0-9_./:,+@%-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Single-quote unconditionally. */
function forceQuote(word: string): string {
  if (word.includes('\0')) throw parseError('word contains a NUL byte');
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Rebuild `prog args | prog args ...`. Why strict shape checks: a command list that is not
 * exactly one pipeline of assignment-free commands cannot be represented faithfully.
 */
export function buildCommandLine(commands: ShellCommand[], pipelines: number): string {
  if (commands.length === 0 || commands.length !== pipelines + 1) {
    throw parseError('cannot rebuild: commands do not form one pipeline');
  }
  return commands
    .map((c) => {
      if (c.assignments.length > 0) throw parseError('cannot rebuild a command with variable assignments');
      if (c.program === '') throw parseError('cannot rebuild a command without a program');
      // The program is always quoted: a quoted word is never a reserved word (coproc, time,
      // if, ...) nor an alias on the host. psql, mysql and sqlite3 skip their start-up files.
      // git looks for its repository no higher than its -C folder (GIT_CEILING_DIRECTORIES), is
      // pinned to it, and runs only if it is no link and borrows no objects (git-repo-check.ts).
      const env = startupEnvironment(c.program, c.args).map(([name, value]) => `${name}=${quoteWord(value)}`);
      const run = [...env, forceQuote(c.program), ...withoutStartupFiles(c.program, c.args).map(quoteWord)].join(' ');
      const check = env.length > 0 ? gitRepoCheck(c.args, quoteWord) : null; // only git has an environment
      return check === null ? run : `{ ${check}; ${run}; }`;
    })
    .join(' | ');
}

/**
 * The line to execute for facts that passed policy. Why a guard here too: facts with any
 * construct beyond a pipeline were not described completely by `commands`.
 */
export function canonicalCommandLine(facts: ShellFacts): string {
  const extra = facts.constructs.filter((c) => c !== 'pipeline');
  if (extra.length > 0) throw parseError(`cannot rebuild a command line with ${extra.join(', ')}`);
  return buildCommandLine(facts.commands, facts.pipelines);
}
