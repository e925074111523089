/**
 * The principal of a stdio client: the operator who launched `warden serve` decides it in
 * warden.yaml (`identity.stdio`). A token in WARDEN_TOKEN is verified like any bearer token
 * when OIDC is configured; a token that cannot be verified refuses the start (fail closed).
 */
import type { Principal } from '../tool-api.js';

/** Build the stdio principal from config. */
export function stdioPrincipal(conf: { subject: string; groups: string[] } | undefined): Principal {
  return { subject: conf?.subject ?? 'local-agent', groups: conf?.groups ?? [], claims: {}, authMethod: 'stdio' };
}
