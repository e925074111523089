/**
 * The decision for one call to one governed tool, as the pipeline makes it and as explain shows
 * it. Why one function: explain_call and `warden policy explain|test` called decide() for every
 * tool, while the pipeline decides a discovery tool (describe_database) by the grants of the tool
 * it describes (decideDiscovery); explain then answered "no rule allows" for a describe the
 * server runs, and missed the deny that refuses it, so an admin's passing test said nothing
 * about the server.
 */
import type { CallView, Facts, GovernedTool, Principal } from '../tool-api.js';
import { decide, decideDiscovery } from './engine.js';
import type { CompiledPolicy, Decision } from './types.js';

/** The decision (and a discovery tool's grants) for a governed tool's call; facts as its parser gave them. */
export function decideToolCall(
  policy: CompiledPolicy,
  p: Principal,
  tool: Pick<GovernedTool<any, any>, 'discoveryFor' | 'discoveryFamily'>,
  call: CallView,
  facts: Facts,
): { decision: Decision; grants?: Record<string, unknown>[] } {
  if (tool.discoveryFor) {
    const d = decideDiscovery(policy, p, call, tool.discoveryFor, tool.discoveryFamily ?? null);
    return { decision: d, grants: d.grants };
  }
  return { decision: decide(policy, p, call, facts) };
}
