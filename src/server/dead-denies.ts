/**
 * A deny rule that names a tool or a connection this server does not have denies nothing: a typo
 * (`tool: query_databse`, `on: [prod-db]` for `prod_db`) would load and leave the call it meant
 * to stop allowed. So does one that can never match: a connection none of its tools serves
 * (`on: [web-1]` for the database), or a condition block of another family (`shell:` on
 * query_database), and one whose `who:` names a pattern (`groups: [contractors-*]`: names are
 * matched exactly, lint-names.ts), or whose `claims:` names a per-token claim (`jti`, `sid`: the
 * principal never carries one, lint-names.ts perTokenClaims). `warden policy check` reports each as an error; `serve` refuses to start or to
 * reload on it, so such a policy never runs. (An allow that names nothing grants nothing: it is
 * left to `policy check`.)
 */
import type { ConnectionConfig, GovernedTool, ToolFamily } from '../tool-api.js';
import { ConfigError } from '../config/yaml-source.js';
import { lintPolicy } from '../policy/lint.js';
import { NOT_A_PATTERN } from '../policy/lint-names.js';
import type { CompiledPolicy } from '../policy/types.js';

/** The lint errors that leave a deny matching no call. */
const DEAD = ['unknown tool "', 'unknown connection "', 'can never match'];

/** Throw a ConfigError listing the deny rules that name an unknown tool or connection, or can never match. */
export function refuseDeadDenies(
  policy: CompiledPolicy,
  connections: ConnectionConfig[],
  families: { family: ToolFamily; tools: GovernedTool<any, any>[] }[],
  builtins: string[],
  /** Said after each problem (a reload: why the connections are the running ones). */
  note?: string,
): void {
  const denies = policy.rules.filter((r) => r.effect === 'deny');
  if (!denies.length) return;
  const dead = lintPolicy({ policy, connections, families, builtins }).filter(
    (p) => p.severity === 'error' && denies.some((r) => DEAD.some((d) => p.message.startsWith(`rule ${r.id}: ${d}`)) || (p.message.startsWith(`rule ${r.id}: `) && p.message.includes(NOT_A_PATTERN))),
  );
  if (dead.length) throw new ConfigError(dead.map((p) => ({ ...p, message: `${p.message}: this deny would deny nothing${note ? ` (${note})` : ''}` })));
}
