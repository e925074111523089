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
  description?: string;
}
