/**
 * The transcript side of a call: its intent, and the failure path that records what happened
 * (denials, parse errors, backend errors) and answers with a code. Built once per pipeline,
 * so a call allocates nothing here that it did not when these lived inside createPipeline.
 */
import { ErrorCode, WardenError, toWardenError } from '../errors.js';
import type { CompiledPolicy } from '../policy/types.js';
import { elapsed, meta, type CallState } from './call-state.js';
import { recordedName, unrecordedArgs } from './input-guard.js';
import { renderError } from './render.js';
import type { CallResponse, PipelineDeps } from './types.js';

/** The intent and failure-path writers, bound to one pipeline's store, log and scanners. */
export interface CallRecorder {
  writeIntent(s: CallState, decision: 'allow' | 'deny' | 'error', durable?: boolean): Promise<void>;
  fail(s: CallState, err: WardenError): Promise<CallResponse>;
  maskError(err: WardenError, s: CallState): WardenError;
}

/** Why a factory: these need the pipeline's deps and its per-policy scanner cache, which createPipeline owns. */
export function callRecorder(deps: PipelineDeps, scannerFor: (p: CompiledPolicy) => ReturnType<PipelineDeps['masking']['scanner']>): CallRecorder {
  async function writeIntent(s: CallState, decision: 'allow' | 'deny' | 'error', durable = false): Promise<void> {
    await deps.store.recordIntent({
      id: s.id,
      sessionId: s.req.sessionId,
      // The names as sent, cut when long (input-guard.ts recordedName); the arguments have their own bound.
      tool: recordedName(String(s.req.tool)),
      connection: s.connection?.name ?? (typeof (s.req.args as Record<string, unknown> | null)?.connection === 'string' ? recordedName(String((s.req.args as Record<string, unknown>).connection)) : null),
      args: s.unstored ? unrecordedArgs(s.unstored) : (s.req.args ?? {}),
      factsSummary: s.facts?.summary ?? null,
      facts: s.facts ?? null,
      decision,
      ruleIds: s.decision?.ruleIds ?? [],
      policyVersion: s.policy.version,
      startedAt: s.startedIso,
    }, { durable });
    s.intentWritten = true;
    s.intentPending = undefined;
  }

  /** Failure path: record what happened (denials, parse errors, backend errors) and answer with a code. */
  async function fail(s: CallState, err: WardenError): Promise<CallResponse> {
    const response = renderError(maskError(err, s), meta(s));
    try {
      // The decision column is the policy's answer; the status says what became of the call.
      const decision = err.code === ErrorCode.DENIED || err.code === ErrorCode.RATE_LIMITED ? 'deny' : s.decision?.effect === 'allow' ? 'allow' : 'error';
      if (!s.intentWritten) await writeIntent(s, decision);
      await deps.store.recordOutcome(s.id, {
        status: err.code === ErrorCode.DENIED || err.code === ErrorCode.APPROVAL_DENIED ? 'denied' : err.code === ErrorCode.APPROVAL_PENDING ? 'pending' : 'error',
        errorCode: err.code,
        result: response.structuredContent,
        masking: null,
        durationMs: elapsed(s),
        endedAt: new Date().toISOString(),
      });
    } catch (e) {
      const te = toWardenError(e, ErrorCode.TRANSCRIPT);
      deps.log('error', 'transcript write failed on the failure path', { code: te.code, message: te.message });
      if (te.code === ErrorCode.TRANSCRIPT && err.code !== ErrorCode.TRANSCRIPT) return renderError(te, meta(s));
    }
    return response;
  }

  /**
   * An error's message can carry what a backend said (a database quoting a value, a command's
   * stderr): the policy's content detectors mask it like a result before the agent or the
   * transcript sees it. Rule ids and alternatives are Warden's own words and stay as they are.
   */
  function maskError(err: WardenError, s: CallState): WardenError {
    const masked = scannerFor(s.policy).scan(err.message).text;
    return masked === err.message ? err : new WardenError(err.code, masked, err.details);
  }

  return { writeIntent, fail, maskError };
}
