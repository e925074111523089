/**
 * The `type: ssh` connection entry. Credentials are references (env:/file:) resolved inside
 * Warden; the host key is pinned, so a host presenting any other key is refused.
 */
import { z } from 'zod';
import type { ConnectionType } from '../../src/tool-api.js';
import { byteCap } from '../shared/byte-cap.js';
import { connectionDuration as duration } from '../shared/duration.js';
import { compilePin, HOST_KEY_PIN } from './host-key.js';

const ref = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, 'must be a secret reference: env:NAME or file:/path (inline secrets are refused)');

function validPin(v: string): boolean {
  try {
    compilePin(v);
    return true;
  } catch {
    return false;
  }
}

/** Schema of an ssh connection (name and type are handled by the config loader). */
export const sshConnectionSchema = z
  .object({
    host: z.string().min(1).max(255).regex(/^[A-Za-z0-9.:_%[\]-]+$/, 'a host name or IP address').describe('Host name or IP address of the SSH server'),
    port: z.number().int().min(1).max(65535).default(22).describe('TCP port of the SSH server'),
    user: z.string().min(1).max(64).regex(/^[A-Za-z0-9._][A-Za-z0-9._-]*$/, 'a login name').describe('Login name every command runs as'),
    private_key: ref.optional().describe('Secret reference to the private key (OpenSSH or PEM text). Give exactly one of private_key or password'),
    passphrase: ref.optional().describe('Secret reference to the passphrase of an encrypted private_key'),
    password: ref.optional().describe('Secret reference to the password (password authentication; keyboard-interactive is not tried)'),
    host_key: z
      .string()
      .trim()
      .regex(HOST_KEY_PIN, 'a pinned host key: "ssh-ed25519 AAAA..." (as in known_hosts) or a SHA256:... fingerprint')
      .refine((v) => validPin(v), 'the key data does not match its key type')
      .describe('The pinned host key: a public key as in known_hosts ("ssh-ed25519 AAAA...") or its SHA256:... fingerprint (ssh-keygen -lf). A host presenting any other key is refused before authentication'),
    // prefault: duration defaults are written as in warden.yaml (the published schema and reference show them so).
    connect_timeout: duration
      .prefault('10s')
      .describe('Time allowed for the SSH handshake and login, and for the login-shell probe of a new connection; also how long the host may take to answer a session request'),
    command_timeout: duration
      .prefault('30s')
      .describe('Default and ceiling for ssh_run timeout_s. Covers the whole call: waiting for a free session, connecting and the command; a command still running then is stopped'),
    max_output_bytes: byteCap('Bytes of stdout and stderr together one command may return (at most limits.max_result_bytes); at the cap the command is stopped and the output marked truncated'),
    keepalive_interval: duration
      .prefault('15s')
      .describe('Interval of SSH keepalive messages on the reused connection; after 3 unanswered ones it is dropped, and the next call opens a new one'),
    max_sessions: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(8)
      .describe('Commands run at once over the one connection to this host (SSH sessions); more wait for a free one. A host allowing fewer (sshd MaxSessions) is learnt from its refusals, and a learnt limit is tried one higher now and then while calls queue (a refusal puts it back)'),
    max_sessions_per_principal: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('Sessions of this connection one principal may hold at once (default: half of max_sessions, rounded up); a call over it waits for one of its own'),
    unknown_login_shell: z
      .enum(['refuse', 'allow'])
      .default('refuse')
      .describe(
        "What to do with a host whose login shell the probe of each new connection cannot name (neither bash nor dash, nor zsh, a ksh or yash, which are always refused): refuse (the default), or allow, for a POSIX shell that reads Warden's line as dash would (BusyBox ash). It must still read the probe's quoting as written",
      ),
    description: z.string().optional().describe('Shown to agents by list_connections'),
  })
  .strict()
  .refine((c) => (c.private_key === undefined) !== (c.password === undefined), {
    message: 'give exactly one of private_key or password (as a secret reference)',
    path: ['private_key'],
  })
  .refine((c) => c.passphrase === undefined || c.private_key !== undefined, {
    message: 'passphrase needs private_key',
    path: ['passphrase'],
  })
  .superRefine((c, ctx) => {
    if (c.max_sessions_per_principal !== undefined && c.max_sessions_per_principal > c.max_sessions) {
      ctx.addIssue({ code: 'custom', path: ['max_sessions_per_principal'], message: `must be at most max_sessions (${c.max_sessions}): a principal cannot hold more sessions than the connection has` });
    }
  });

/** A validated ssh connection. */
export interface SshConnection {
  name: string;
  type: 'ssh';
  host: string;
  port: number;
  user: string;
  private_key?: string;
  passphrase?: string;
  password?: string;
  host_key: string;
  connect_timeout: number;
  command_timeout: number;
  max_output_bytes: number;
  keepalive_interval: number;
  max_sessions: number;
  /** Absent: see sessionsPerPrincipal. */
  max_sessions_per_principal?: number;
  /** A login shell the probe cannot name: refused unless `allow` (shell-probe.ts). */
  unknown_login_shell: 'refuse' | 'allow';
  description?: string;
}

/**
 * How many of a connection's sessions one principal may hold at once: the configured
 * `max_sessions_per_principal`, else half of `max_sessions` rounded up (all of it when that is
 * 1). Why a default below max_sessions: without one, a principal that fires slow commands on
 * every slot makes every other principal's ssh_run wait out its deadline.
 */
export function sessionsPerPrincipal(c: Pick<SshConnection, 'max_sessions' | 'max_sessions_per_principal'>): number {
  return c.max_sessions_per_principal ?? Math.ceil(c.max_sessions / 2);
}

/** The family's connection type as reading warden.yaml needs it, without its tools (tools/connection-types.ts). */
export const sshConnectionType: ConnectionType = { name: 'ssh', connectionType: 'ssh', connectionSchema: sshConnectionSchema };
