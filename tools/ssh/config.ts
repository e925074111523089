/**
 * The `type: ssh` connection entry. Credentials are references (env:/file:) resolved inside
 * Warden; the host key is pinned, so a host presenting any other key is refused.
 */
import { z } from 'zod';
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
    host: z.string().min(1).max(255).regex(/^[A-Za-z0-9.:_%[\]-]+$/, 'a host name or IP address'),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1).max(64).regex(/^[A-Za-z0-9._][A-Za-z0-9._-]*$/, 'a login name'),
    private_key: ref.optional(),
    passphrase: ref.optional(),
    password: ref.optional(),
    host_key: z
      .string()
      .trim()
      .regex(HOST_KEY_PIN, 'a pinned host key: "ssh-ed25519 AAAA..." (as in known_hosts) or a SHA256:... fingerprint')
      .refine((v) => validPin(v), 'the key data does not match its key type'),
    connect_timeout: duration.default(10_000),
    command_timeout: duration.default(30_000),
    max_output_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    keepalive_interval: duration.default(15_000),
    max_sessions: z.number().int().min(1).max(64).default(8),
    max_sessions_per_principal: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('Sessions of this connection one principal may hold at once (default: half of max_sessions, rounded up); a call over it waits for one of its own'),
    description: z.string().optional(),
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
