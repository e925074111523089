/**
 * Shared shapes of the shell library: what a parsed command line looks like to policy.
 */
import type { Facts } from '../../../src/tool-api.js';

/**
 * One simple command with its words already normalised (quotes removed, escapes resolved,
 * `$'..'` decoded). Why: policy matches on what the shell would really execute, never on
 * the spelling the agent chose.
 */
export interface ShellCommand {
  /** Empty for variables set outside a command's prefix (`A=1;`, `for A in ...`, `${A:=1}`). */
  program: string;
  args: string[];
  /** `NAME=value` prefixes of the command (always a construct too). */
  assignments: string[];
  /** Files its redirections open, read or written (`> /dev/sda`, `< /etc/x`; not `2>&1`), also a statement's around it: deny rules' paths see them. */
  redirects?: string[];
}

/**
 * Every construct the parser can report. Why a closed list: the condition allows only
 * `pipeline` (when enabled); anything else present means "not a plain command line".
 */
export type ShellConstruct =
  | 'pipeline'
  | 'pipe_stderr'
  | 'list'
  | 'and_or'
  | 'background'
  | 'negation'
  | 'subshell'
  | 'group'
  | 'command_substitution'
  | 'process_substitution'
  | 'parameter_expansion'
  | 'arithmetic_expansion'
  | 'brace_expansion'
  | 'glob'
  | 'tilde'
  | 'translated_string'
  | 'redirection'
  | 'redirection_dup'
  | 'heredoc'
  | 'herestring'
  | 'assignment'
  | 'array'
  | 'declaration'
  | 'unset'
  | 'function_definition'
  | 'comment'
  | 'variable_in_command_position'
  | 'test'
  | 'if'
  | 'loop'
  | 'case';

/**
 * What the shell parser understood about one command line (or one argv).
 * Why `commands` lists every simple command found anywhere (also inside substitutions):
 * deny rules must see `rm` even in `ls $(rm -rf /)`. Only when `constructs` is empty or
 * just `pipeline` do `commands` + `pipelines` describe the whole line (see canonicalCommandLine).
 */
export interface ShellFacts extends Facts {
  family: 'shell';
  commands: ShellCommand[];
  /** Number of `|` joins in the top-level pipeline. */
  pipelines: number;
  /** Sorted, de-duplicated constructs found (see ShellConstruct). */
  constructs: ShellConstruct[];
  /** How the line reached us: a shell command line, a bare argv, or the script of `sh -c`. */
  source: 'line' | 'argv' | 'sh-c';
}
