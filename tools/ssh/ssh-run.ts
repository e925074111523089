/**
 * `ssh_run`: one shell command line, parsed by a real bash grammar, decided by the `shell:`
 * policy, then rebuilt from the parsed words (never the raw input) and run on the pinned host
 * with a deadline and an output cap. Values beside secret names (`DB_PASSWORD=...` from `env` or
 * `cat .env`) are masked here, so the transcript never holds them; the content detectors then
 * mask stdout and stderr.
 */
import { z } from 'zod';
import { ErrorCode, principalKey, WardenError, type GovernedTool, type ToolOutput } from '../../src/tool-api.js';
import { canonicalCommandLine, initShellParser, MAX_SHELL_BYTES, parseShell, type ShellFacts } from '../shared/shell/index.js';
import { secretNote } from '../shared/secret-text.js';
import { maskCommandOutput } from '../shared/line-windows.js';
import type { SshConnection } from './config.js';
import type { SshConnector } from './connector.js';

/** Arguments of ssh_run. */
export const sshRunInput = z
  .object({
    connection: z.string().min(1).max(128),
    command: z.string().min(1).max(MAX_SHELL_BYTES),
    timeout_s: z.number().int().min(1).max(3600).optional(),
  })
  .strict();

type SshRunInput = z.infer<typeof sshRunInput>;

/** Shell facts plus the exact line that would run (null when the line cannot be rebuilt). Why: transcripts show what ran. */
export interface SshRunFacts extends ShellFacts {
  commandLine: string | null;
}

const sshRunOutput = z
  .object({
    stdout: z.string(),
    stderr: z.string(),
    exit_code: z.number().nullable(),
    truncated: z.boolean(),
    warden: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/** Parse a command line into facts for ssh_run (exported for explain, tests and the bench). */
export async function parseSshCommand(command: string): Promise<SshRunFacts> {
  await initShellParser();
  const facts = parseShell(command);
  let commandLine: string | null = null;
  try {
    commandLine = canonicalCommandLine(facts);
  } catch {
    commandLine = null; // the policy will not allow it either; execute would refuse again
  }
  return { ...facts, commandLine };
}

/** Build the tool over the family's connectors. */
export function sshRunTool(connectorFor: (name: string) => SshConnector): GovernedTool<SshRunInput, SshRunFacts> {
  return {
    name: 'ssh_run',
    factsFamily: 'shell',
    title: 'Run a shell command on a host over SSH (governed)',
    description:
      'Run one command line on a configured SSH host. The line is parsed by a real shell grammar and checked against policy: ' +
      'only listed programs, allowed paths and subcommands, and (where granted) pipes between them; no ;, &&, substitutions, ' +
      'redirections or variables. What runs is rebuilt from the parsed words. Output is capped and masked ' +
      '(values beside secret names such as DB_PASSWORD= or --token show as ***). ' +
      'Use list_connections to see the hosts and programs you may use.',
    connectionTypes: ['ssh'],
    input: sshRunInput,
    output: sshRunOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    parse(input) {
      return parseSshCommand(input.command);
    },
    isReadOnly() {
      return false;
    },
    canonicalArgs(input, facts) {
      return { connection: input.connection, command: facts.commandLine ?? input.command, timeout_s: input.timeout_s ?? null };
    },
    async execute(input, facts, ctx): Promise<ToolOutput> {
      const conn = ctx.connection as unknown as SshConnection | null;
      if (!conn || conn.type !== 'ssh') throw new WardenError(ErrorCode.INTERNAL, 'ssh_run without an ssh connection');
      // Recomputed from the facts the policy judged; throws WARDEN_PARSE for anything beyond a pipeline.
      const line = canonicalCommandLine(facts);
      const timeoutMs = Math.min(input.timeout_s !== undefined ? input.timeout_s * 1000 : conn.command_timeout, conn.command_timeout);
      const maxBytes = Math.min(conn.max_output_bytes, ctx.limits.maxBytes > 0 ? ctx.limits.maxBytes : conn.max_output_bytes);
      // The principal's share of the host's sessions (max_sessions_per_principal) bounds what it can hold.
      const r = await connectorFor(conn.name).run(line, { timeoutMs, maxBytes, signal: ctx.signal, principal: principalKey(ctx.principal) });
      // After the cap: a value the cap cuts ends the stream, and an open quote masks to its end.
      const { streams, masked } = maskCommandOutput({ stdout: r.stdout, stderr: r.stderr }, facts.commands);
      const notes: string[] = [];
      if (r.truncated) notes.push(`output capped at ${maxBytes} bytes; the command was stopped`);
      else if (r.exitSignal !== null) notes.push(`the command was ended by signal ${r.exitSignal}`);
      const secrets = secretNote(masked);
      if (secrets) notes.push(secrets);
      return { kind: 'text', streams, exitCode: r.exitCode, truncated: r.truncated, ...(notes.length ? { notes } : {}) };
    },
  };
}
