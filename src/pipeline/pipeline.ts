/**
 * The one path every tool call takes, stage by stage (see stages.ts). No tool skips a stage:
 * the transport calls `handle`, and only `handle` reaches a tool's `execute`.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, WardenError, nothingSent, toWardenError } from '../errors.js';
import type { CallView, GovernedTool, Principal } from '../tool-api.js';
import { familiesOf, grantableOn, grantableTools, visibleTools } from '../policy/engine.js';
import { givenBack } from '../approvals/give-back.js';
import type { CompiledPolicy } from '../policy/types.js';
import { hiddenFrom } from './builtins/explain-call.js';
import { elapsed, meta, type CallState } from './call-state.js';
import { MAX_INPUT_DEPTH, nestsDeeperThan, unencodableString } from './input-guard.js';
import { itemJudge } from './item-judge.js';
import { maskOutput } from './mask-output.js';
import { withinBytesQuota } from './bytes-quota.js';
import { withinRowsQuota } from './rate-limit.js';
import { decideUnder } from './decide-call.js';
import { approveCall } from './approve-call.js';
import { callRecorder } from './record.js';
import { renderError, renderOutput } from './render.js';
import { STAGES, type StageName } from './stages.js';
import { stageProfiler } from './stage-profile.js';
import type { CallRequest, CallResponse, PipelineDeps } from './types.js';

/** The governed core: discovery and calls. */
export interface Pipeline {
  handle(req: CallRequest): Promise<CallResponse>;
  /** Tools this principal may see (discovery shows nothing it cannot use). */
  listTools(principal: Principal): GovernedTool<any, any>[];
  readonly stages: readonly StageName[];
}

/** Build the pipeline over its dependencies. */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const profile = stageProfiler();
  const toolsByName = new Map(deps.tools.map((t) => [t.name, t]));
  const connByName = new Map(deps.connections.map((c) => [c.name, c]));
  // Each tool's facts family: a rule whose blocks cannot judge a tool's calls grants it nothing, in discovery too.
  const familyOf = familiesOf(deps.tools);
  const scanners = new WeakMap<CompiledPolicy, ReturnType<PipelineDeps['masking']['scanner']>>();
  const scannerFor = (p: CompiledPolicy) => {
    let s = scanners.get(p);
    if (!s) scanners.set(p, (s = deps.masking.scanner(p)));
    return s;
  };
  const { writeIntent, fail, maskError } = callRecorder(deps, scannerFor);

  const stageFns: Record<StageName, (s: CallState) => Promise<void> | void> = {
    async authenticate(s) {
      if (!s.req.principal) throw new WardenError(ErrorCode.UNAUTHENTICATED, s.req.authError ?? 'no authenticated principal for this session');
      s.principal = s.req.principal;
      // A shared limiter answers after a round trip, and only when a limit applies.
      if (deps.rateLimiter) s.rate = await deps.rateLimiter.admit(s.principal);
    },
    validate(s) {
      const tool = toolsByName.get(s.req.tool);
      // A tool exists for this call when some allow could grant it; a deny that covers it is
      // decided (and recorded with its rule id) in decide, not hidden here as an unknown tool.
      const visible = tool && grantableTools(s.policy, s.principal!, [tool.discoveryFor ?? tool.name], familyOf).length > 0;
      if (!tool || hiddenFrom(tool, s.principal!) || (!visible && tool.connectionTypes !== null)) {
        throw new WardenError(ErrorCode.UNKNOWN_TOOL, `unknown tool "${String(s.req.tool).slice(0, 80)}"`);
      }
      s.tool = tool;
      const refuse = (why: string): never => {
        s.unstored = why;
        throw new WardenError(ErrorCode.INVALID_INPUT, why);
      };
      if (nestsDeeperThan(s.req.args, MAX_INPUT_DEPTH)) refuse(`arguments nest deeper than ${MAX_INPUT_DEPTH} levels`);
      // Recorded as sent (JSON escapes both), refused before any parser or backend reads them.
      const unencodable = unencodableString(s.req.args);
      if (unencodable) throw new WardenError(ErrorCode.INVALID_INPUT, `arguments contain ${unencodable}; it cannot reach a backend as sent`);
      let size = 0;
      try {
        size = Buffer.byteLength(JSON.stringify(s.req.args ?? {}));
      } catch {
        refuse('arguments are not valid JSON');
      }
      if (size > deps.limits.maxInputBytes) refuse(`arguments are ${size} bytes; the limit is ${deps.limits.maxInputBytes}`);
      const r = tool.input.safeParse(s.req.args ?? {});
      if (!r.success) {
        const first = r.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(arguments)'}: ${i.message}`);
        throw new WardenError(ErrorCode.INVALID_INPUT, `invalid arguments for ${tool.name}: ${first.join('; ')}`);
      }
      s.input = r.data as Record<string, unknown>;
      if (tool.connectionTypes) {
        const name = s.input.connection;
        const conn = typeof name === 'string' ? connByName.get(name) : undefined;
        // A connection no allow could grant this principal the tool on is answered as unknown:
        // whether it exists is none of this principal's business (a covering deny is decided).
        if (!conn || !tool.connectionTypes.includes(conn.type) || !grantableOn(s.policy, s.principal!, tool.discoveryFor ?? tool.name, conn.name, familyOf)) {
          throw new WardenError(ErrorCode.UNKNOWN_CONNECTION, `unknown connection "${String(name).slice(0, 80)}" for ${tool.name}; call list_connections to see what you may reach`);
        }
        s.connection = conn;
      }
    },
    async parse(s) {
      s.facts = await s.tool!.parse(s.input!, { principal: s.principal!, connection: s.connection });
    },
    async decide(s) {
      const d = decideUnder(s.policy, s);
      s.decision = d.decision;
      if (d.grants) s.grants = d.grants;
      if (s.decision.effect === 'deny') {
        throw new WardenError(ErrorCode.DENIED, s.decision.reason, { ruleIds: s.decision.ruleIds, alternatives: s.decision.alternatives });
      }
      if (s.rate) {
        const ids = s.decision.ruleIds;
        const limited = s.policy.rules.filter((r) => r.limits && ids.includes(r.id));
        if (limited.length) await s.rate.admitRules(limited);
      }
    },
    approve(s) {
      return approveCall(deps, s);
    },
    async 'record-intent'(s) {
      // A call that may change anything waits for a durable (fsynced) intent before it runs. A
      // read-only call's intent commits without its own fsync (it survives a process crash at once
      // and becomes power-loss durable with the outcome, before the agent sees anything), before
      // the statement starts; only with read_intent: overlap (opt-in) does it commit while the
      // statement is in flight, execute then waiting for it before any result moves on.
      const t = s.tool!;
      const readOnly = t.connectionTypes === null || (t.isReadOnly ? t.isReadOnly(s.facts!) : false);
      if (readOnly && deps.readIntent === 'overlap') {
        s.intentPending = writeIntent(s, 'allow', false);
        s.intentPending.catch(() => undefined); // observed in execute (or on the failure path)
        return;
      }
      await writeIntent(s, 'allow', !readOnly);
      // Its requests read again now that its use is on record: one withdrawn between the use and
      // the intent stops it at execute's boundary (approvals/in-flight.ts recheck).
      await recheckApprovals(s);
    },
    async execute(s) {
      const t = s.tool!;
      const running = t.execute(s.input!, s.facts!, {
        principal: s.principal!,
        connection: s.connection,
        limits: { timeoutMs: deps.limits.defaultTimeoutMs, maxRows: deps.limits.defaultMaxRows, maxBytes: deps.limits.maxResultBytes },
        masking: {
          columns: s.policy.masking.columns,
          onDerived: s.policy.masking.onDerived,
          apply: deps.masking.apply,
        },
        // The client's cancel, or the withdrawal of an approval it runs on (approvals/in-flight.ts).
        signal: s.hold ? AbortSignal.any([s.req.signal, s.hold.signal]) : s.req.signal,
        readOnly: t.isReadOnly ? t.isReadOnly(s.facts!) : false,
        log: deps.log,
        core: deps.core,
        ...(s.grants ? { grants: s.grants } : {}),
        ...(t.connectionTypes !== null && !t.discoveryFor
          ? { judge: itemJudge(s.policy, s.principal!, { tool: t.name, connection: s.connection?.name ?? null, args: s.input! }, s.decision!) }
          : {}),
      });
      const overlapped = s.intentPending !== undefined;
      if (s.intentPending) {
        // The intent's failure wins over the statement's outcome: a call whose intent did not
        // land is refused, and its result (if any) is dropped.
        running.catch(() => undefined);
        await s.intentPending;
        // As after a sequential intent: a withdrawal before it landed cancels the read, and a
        // result already in is dropped (the call ran on an approval no longer counted).
        await recheckApprovals(s);
      }
      s.output = await running;
      if (overlapped && s.hold?.withdrawn()) throw new WardenError(ErrorCode.CANCELLED, 'the call was cancelled before its result was returned (an approval it ran on was withdrawn)');
      // Its result is in: an approval withdrawn from now on changes nothing.
      s.hold?.release();
      if (s.rate) s.output = await withinRowsQuota(s.output, s.rate);
    },
    mask(s) {
      const r = maskOutput(s.output!, scannerFor(s.policy));
      s.output = r.output;
      s.masking = r.report;
    },
    async 'record-outcome'(s) {
      // Rows were taken in execute (withinRowsQuota); the bytes are those sent, cut to the quota.
      if (s.rate) ({ output: s.output, response: s.response } = await withinBytesQuota(s.output!, (o) => renderOutput(o, meta(s)), s.rate));
      else s.response = renderOutput(s.output!, meta(s));
      await deps.store.recordOutcome(s.id, {
        status: 'ok',
        errorCode: null,
        result: s.response.structuredContent ?? s.response.content,
        masking: s.masking ?? null,
        durationMs: elapsed(s),
        endedAt: new Date().toISOString(),
      });
    },
    respond() {
      /* the response was built in record-outcome so that what is stored is what is sent */
    },
  };

  return {
    stages: STAGES,
    listTools(principal) {
      const policy = deps.policy();
      const names = visibleTools(policy, principal, deps.tools.filter((t) => t.connectionTypes !== null).map((t) => t.discoveryFor ?? t.name), familyOf);
      return deps.tools.filter((t) => !hiddenFrom(t, principal) && (t.connectionTypes === null || names.includes(t.discoveryFor ?? t.name)));
    },
    async handle(req) {
      const s: CallState = {
        id: randomUUID(),
        req,
        startedAt: performance.now(),
        startedIso: new Date().toISOString(),
        policy: deps.policy(),
        connection: null,
        intentWritten: false,
        stagesRun: [],
      };
      try {
        for (const stage of STAGES) {
          // A call the client cancelled stops at the next stage boundary until it executes
          // (an approved write must not run for a client that no longer waits for it).
          if (req.signal.aborted && STAGES.indexOf(stage) <= EXECUTE_AT) throw new WardenError(ErrorCode.CANCELLED, `the call was cancelled by the client before it ran (at ${stage})`);
          if (s.hold?.signal.aborted && STAGES.indexOf(stage) <= EXECUTE_AT) throw new WardenError(ErrorCode.CANCELLED, `the call was cancelled before it ran (at ${stage})`);
          s.stagesRun.push(stage);
          if (profile) {
            const t = performance.now();
            await stageFns[stage](s);
            profile.add(stage, performance.now() - t);
          } else await stageFns[stage](s);
        }
        return s.response!;
      } catch (e) {
        let err = toWardenError(e, s.stagesRun.at(-1) === 'execute' ? ErrorCode.BACKEND : ErrorCode.INTERNAL);
        if (s.intentPending) {
          // The statement failed while its intent was still committing: the intent lands first.
          await s.intentPending.catch((ie: unknown) => (err = toWardenError(ie, ErrorCode.TRANSCRIPT)));
        }
        // Masked like the agent's copy: an unexpected exception's message may quote a backend's data.
        if (!(e instanceof WardenError)) deps.log('error', 'call failed', { stage: s.stagesRun.at(-1), message: maskError(err, s).message });
        // A store that cannot record the intent stops the call: nothing ran.
        if (err.code === ErrorCode.TRANSCRIPT && !s.intentWritten) return renderError(err, meta(s));
        // Cancelled before execute (the boundary check), or in it before anything reached the
        // backend (the tool says so: NOTHING_SENT): nothing started, its approvals go back.
        // Cancelled because an approval it ran on was withdrawn (approvals/in-flight.ts): said so, coded.
        const withdrawn = s.hold?.withdrawn();
        if (err.code === ErrorCode.CANCELLED && s.spent?.length && (!s.stagesRun.includes('execute') || nothingSent(err))) err = await givenBack(deps.approvals, deps.log, s.id, s.spent, err, withdrawn);
        if (withdrawn && err.code === ErrorCode.CANCELLED) err = new WardenError(withdrawn.code, withdrawn.message, { ...err.details, ...withdrawn.details });
        return fail(s, err);
      } finally {
        s.hold?.release();
        // Before the answer leaves: the agent's next call finds the slot free, on any replica.
        await s.rate?.release();
      }
    },
  };
}

const EXECUTE_AT = STAGES.indexOf('execute');

/**
 * Re-read the approval requests a call runs on once its intent is recorded (approvals/in-flight.ts
 * recheck); a store that cannot answer refuses the call before it executes (fail closed: a
 * withdrawal made since the use would go unseen), coded, its error's text not passed on.
 */
async function recheckApprovals(s: CallState): Promise<void> {
  await s.hold?.recheck().catch(() => {
    throw new WardenError(ErrorCode.TRANSCRIPT, 'the store could not be read to re-check the approvals this call runs on (one withdrawn since it was used would go unseen), so it did not run; call again');
  });
}
