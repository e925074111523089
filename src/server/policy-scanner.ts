/**
 * The policy's content detectors as one scanner, and the mask approval webhooks pass through.
 * Why here: approvals may not import masking (test/layering.test.ts), so the server and the
 * reviewer CLI hand the notifier this mask; one definition of "the policy's scanner" for the
 * pipeline (results, error messages) and for webhooks.
 */
import { compileScanner, scanValue, type Scanner } from '../masking/index.js';
import type { CompiledPolicy } from '../policy/types.js';

/** The scanner of a policy's `masking.detectors` and `masking.custom`. */
export function policyScanner(p: CompiledPolicy): Scanner {
  return compileScanner({ detectors: p.masking.detectors, custom: p.masking.custom });
}

/**
 * The mask of approval webhook notices under the live policy (compiled once per policy version):
 * a notice leaves for a chat channel or a bot, outside Warden, so a card number or an access key
 * an agent wrote into a call is masked as it would be in a result. Without a policy it throws, and
 * the notifier then sends nothing (fail closed).
 */
export function webhookMask(policy: () => CompiledPolicy | undefined): (v: unknown) => unknown {
  let cached: { p: CompiledPolicy; scanner: Scanner } | undefined;
  return (v) => {
    const p = policy();
    if (!p) throw new Error('no policy to mask the webhook notice with');
    if (cached?.p !== p) cached = { p, scanner: policyScanner(p) };
    return scanValue(v, cached.scanner).value;
  };
}
