/**
 * The `type: kubernetes` connection entry. The kubeconfig is a secret reference (env:/file:)
 * resolved inside Warden; the agent can never supply a kubeconfig, server, token or
 * impersonation. `context` picks one context of that kubeconfig.
 */
import { z } from 'zod';
import type { ConnectionType } from '../../src/tool-api.js';
import { byteCap } from '../shared/byte-cap.js';
import { connectionDuration as duration } from '../shared/duration.js';

const ref = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, 'must be a secret reference: env:NAME or file:/path (inline secrets are refused)');

/** Schema of a kubernetes connection (name and type are handled by the config loader). */
export const kubernetesConnectionSchema = z
  .object({
    kubeconfig: ref.describe('Secret reference to the kubeconfig text: cluster server, CA and the credentials Warden uses (token, client certificate, exec plugin)'),
    context: z.string().min(1).max(253).optional().describe('Context of the kubeconfig to use (it must be in it). Omitted: its current-context'),
    // prefault: duration defaults are written as in warden.yaml (the published schema and reference show them so).
    request_timeout: duration.prefault('10s').describe('Timeout of each API server read (kubectl_get, kubectl_logs, the pod lookup before logs and exec, the lists read to judge events and workloads)'),
    exec_timeout: duration.prefault('30s').describe('Default and ceiling for kubectl_exec timeout_s'),
    max_bytes: byteCap('Bytes one call returns (kubectl_get objects, kubectl_logs, kubectl_exec output; at most limits.max_result_bytes); the rest is cut and marked truncated. An API answer read for kubectl_get or to judge a call may be 8 times this; a larger one is refused'),
    exec_protocols: z
      .array(z.enum(['v5.channel.k8s.io', 'v4.channel.k8s.io']))
      .min(1)
      .default(['v5.channel.k8s.io', 'v4.channel.k8s.io'])
      .describe('Exec WebSocket subprotocols offered to the API server, most preferred first'),
    description: z.string().optional().describe('Shown to agents by list_connections'),
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

/** The family's connection type as reading warden.yaml needs it, without its tools (tools/connection-types.ts). */
export const kubernetesConnectionType: ConnectionType = { name: 'kubernetes', connectionType: 'kubernetes', connectionSchema: kubernetesConnectionSchema };
