/**
 * Every usage text of the `warden` CLI, in one place: the per-command `--help`, the usage printed
 * with a usage error, and the `warden --help` summary all come from here (and test/docs checks the
 * README's CLI block against them). Light on purpose: main.ts answers `--help` from it without
 * loading a command module, reading a config or opening a store.
 */
import { APPROVAL_STATES } from '../recorder/approval-store.js';

/** The commands that have a usage of their own. */
export type Command = 'serve' | 'demo' | 'policy' | 'approvals' | 'transcripts';

// One line per form ("warden CMD SUB ..."); other lines are notes that belong to every form.
const FORMS: Record<Command, string[]> = {
  serve: [
    'warden serve [--config warden.yaml] [--http HOST:PORT]',
    'MCP over stdio; with --http, Streamable HTTP on HOST:PORT and the reviewer UI under /ui',
  ],
  demo: [
    'warden demo [--serve] [--config NEW_FILE] [--json]',
    'embedded database, sample data, a scripted agent session; --serve keeps it up for your MCP client',
  ],
  policy: [
    'warden policy check   [--config F] [--json] [--strict]',
    'warden policy test    [DIR] [--config F] [--json]           (DIR defaults to policies/tests beside the config)',
    'warden policy explain --as SUBJECT [--groups a,b] [--claims JSON] [--actors agent,...] --tool T --args JSON [--config F] [--json]',
    'warden policy schema  [warden|policy|test]                  (prints a JSON Schema)',
  ],
  approvals: [
    `warden approvals list [--state ${APPROVAL_STATES.join('|')}] [--requester SUBJECT] [--limit N] [--json]`,
    'warden approvals show ID [--json]',
    'warden approvals approve|deny ID [--comment TEXT] (--as SUBJECT [--groups g1,g2] | --token JWT) [--json]',
    'all take --config FILE (default ./warden.yaml)',
  ],
  transcripts: [
    'warden transcripts list [--subject S] [--tool T] [--limit N] [--json]',
    'warden transcripts show SESSION_ID [--json]',
    'warden transcripts replay SESSION_ID [--follow | --json]',
    'warden transcripts verify [--from N --to N] [--strict] [--expect-head SEQ:HASH ...] [--expect-head-file FILE] [--json]',
    'warden transcripts verify --file EXPORT|- [--public-key PEM] [--strict] [--expect-head SEQ:HASH ...] [--json]   (an export, offline)',
    'warden transcripts head [--json]',
    'warden transcripts adopt-head [--expect-head SEQ:HASH ...] [--expect-head-file FILE] [--json]   (sign a store that has no signed head, or records beyond it, after verifying it)',
    'warden transcripts export [--format jsonl] [--since DATE] [--until DATE]',
    'warden transcripts purge --before DATE [--json]',
    'all take --config FILE (default ./warden.yaml)',
  ],
};

/** The subcommands a form line names (`approve|deny` names two); none for a note. */
function subsOf(cmd: Command, line: string): string[] {
  const m = new RegExp(`^warden ${cmd} ([a-z|]+)`).exec(line);
  return m && cmd !== 'serve' && cmd !== 'demo' ? m[1]!.split('|') : [];
}

/** Whether `name` is a command with a usage. */
export function isCommand(name: string | undefined): name is Command {
  return name !== undefined && Object.hasOwn(FORMS, name);
}

/** The subcommands of a command (empty for serve and demo). */
export function subcommands(cmd: Command): string[] {
  return FORMS[cmd].flatMap((l) => subsOf(cmd, l));
}

/** The usage of a command, or of one of its subcommands (its forms and the command's notes). */
export function usage(cmd: Command, sub?: string): string {
  const lines = sub === undefined ? FORMS[cmd] : FORMS[cmd].filter((l) => !l.startsWith('warden ') || subsOf(cmd, l).includes(sub));
  return lines.map((l, i) => (i === 0 ? 'usage: ' : '       ') + l).join('\n');
}

/**
 * `--help` or `-h` among the arguments (before a `--`). Why anywhere on the line: help never acts,
 * so `warden approvals approve ID --help` prints the usage rather than approving.
 */
export function helpRequested(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** What `warden CMD ARGS... --help` prints: the usage of the first subcommand named, else of CMD. */
export function helpFor(cmd: Command, args: string[]): string {
  const subs = subcommands(cmd);
  return usage(cmd, args.find((a) => subs.includes(a))) + '\n';
}

/** `warden --help`: a summary of every command. */
export function summary(version: string): string {
  const first = (cmd: Command) => FORMS[cmd][0]!;
  return `warden ${version}: governed MCP access to databases, hosts and clusters

Usage:
  ${first('serve')}   MCP over stdio, or Streamable HTTP (reviewer UI under /ui)
  ${first('demo')}       embedded database, sample data, a scripted agent session
  warden policy check|test|explain|schema ...              validate, test and explain policies (FILE:LINE errors)
  warden approvals list|show|approve|deny [ID] [--comment TEXT] [--as SUBJECT --groups g1,g2 | --token JWT]
  warden transcripts list|show|replay|verify|head|adopt-head|export|purge ...
  warden COMMAND [SUBCOMMAND] --help                       that command's usage (also -h, or warden help COMMAND)
  warden --version

Every command takes --config FILE (default ./warden.yaml); commands that print data take --json.
`;
}
