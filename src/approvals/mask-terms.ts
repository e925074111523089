/**
 * Whether the masks a reload leaves hide at least what the masks before it hid. Why: a reviewer
 * approves a call whose result the policy masks; a reload while the call waits that removes or
 * loosens a mask must not let the approval return in clear what the reviewer approved seeing
 * masked. A reload that only adds masks (or detectors) runs it, masked by the live policy. A call
 * made after a reload asks anew on any change: its hash binds the masks (canonical.ts maskingDigest).
 */
import type { CompiledPolicy } from '../policy/types.js';

type Masking = CompiledPolicy['masking'];

/**
 * How `live` masks less than `was` (a column mask gone or given another strategy, a detector or
 * custom pattern gone, on_derived from deny to mask), or null when it hides at least as much.
 * A strategy changed counts as looser whatever it is (strategies are not ordered: fail closed).
 * Said by kind and count, never naming a column or pattern: the agent reads it.
 */
export function maskingLoosened(was: Masking, live: Masking): string | null {
  if (was === live) return null;
  const why: string[] = [];
  const liveColumns = new Map(live.columns.map((c) => [c.column, c.strategy]));
  const columns = was.columns.filter((c) => liveColumns.get(c.column) !== c.strategy).length;
  if (columns) why.push(`${columns} column mask(s) removed or changed`);
  const detectors = was.detectors.filter((d) => !live.detectors.includes(d)).length;
  if (detectors) why.push(`${detectors} detector(s) removed`);
  const custom = was.custom.filter((c) => !live.custom.some((l) => l.name === c.name && l.pattern === c.pattern)).length;
  if (custom) why.push(`${custom} custom detector(s) removed or changed`);
  if (was.onDerived === 'deny' && live.onDerived !== 'deny') why.push('on_derived: deny became mask');
  return why.length ? why.join('; ') : null;
}
