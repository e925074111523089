/**
 * A deny rule that names a tool or a connection this server does not have denies nothing: a typo
 * (`tool: query_databse`, `on: [prod-db]` for `prod_db`) would load and leave the call it meant
 * to stop allowed. `warden policy check` reports it as an error; `serve` refuses to start or to
 * reload on it, so such a policy never runs. (An allow that names nothing grants nothing: it is
 * left to `policy check`.)
 */
import type { ConnectionConfig, GovernedTool, ToolFamily } from '../tool-api.js';
import { ConfigError } from '../config/yaml-source.js';
import { lintPolicy } from '../policy/lint.js';
import type { CompiledPolicy } from '../policy/types.js';

/** Throw a ConfigError listing the deny rules that name an unknown tool or connection. */
export function refuseDeadDenies(
  policy: CompiledPolicy,
  connections: ConnectionConfig[],
  families: { family: ToolFamily; tools: GovernedTool<any, any>[] }[],
  builtins: string[],
): void {
  const denies = policy.rules.filter((r) => r.effect === 'deny');
  if (!denies.length) return;
  const dead = lintPolicy({ policy, connections, families, builtins }).filter(
    (p) => p.severity === 'error' && denies.some((r) => p.message.startsWith(`rule ${r.id}: unknown tool "`) || p.message.startsWith(`rule ${r.id}: unknown connection "`)),
  );
  if (dead.length) throw new ConfigError(dead.map((p) => ({ ...p, message: `${p.message}: this deny would deny nothing` })));
}
