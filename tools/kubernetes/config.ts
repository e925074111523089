/**
 * The `type: kubernetes` connection entry. The kubeconfig is a secret reference (env:/file:)
 * resolved inside Warden; the agent can never supply a kubeconfig, server, token or
 * impersonation. `context` picks one context of that kubeconfig.
 */
import { z } from 'zod';
import { connectionDuration as duration } from '../shared/duration.js';

const ref = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, 'must be a secret reference: env:NAME or file:/path (inline secrets are refused)');

/** Schema of a kubernetes connection (name and type are handled by the config loader). */
export const kubernetesConnectionSchema = z
  .object({
    kubeconfig: ref,
    context: z.string().min(1).max(253).optional(),
    /** Per-request timeout for API reads (get, logs, the pod lookup before exec). */
    request_timeout: duration.default(10_000),
    /** Default and ceiling for kubectl_exec `timeout_s`. */
    exec_timeout: duration.default(30_000),
    /** Byte cap on what one call returns (exec streams, logs, get output). */
    max_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /** Exec subprotocols offered, most preferred first (v5 falls back to v4). */
    exec_protocols: z.array(z.enum(['v5.channel.k8s.io', 'v4.channel.k8s.io'])).min(1).default(['v5.channel.k8s.io', 'v4.channel.k8s.io']),
    description: z.string().optional(),
  })
  .strict();

/** A validated kubernetes connection. */
export interface KubernetesConnection {
  name: string;
  type: 'kubernetes';
  kubeconfig: string;
  context?: string;
  request_timeout: number;
  exec_timeout: number;
  max_bytes: number;
  exec_protocols: ('v5.channel.k8s.io' | 'v4.channel.k8s.io')[];
  description?: string;
}
