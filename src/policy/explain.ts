/**
 * Explain one call offline: validate the arguments like the pipeline does, parse them with the
 * family tool's own parser (no backend is touched), show every rule considered and why it
 * matched or not, and the decision. Used by `warden policy explain`, `warden policy test` and
 * the admin-only `explain_call` tool, so all three say exactly what the pipeline would decide.
 */
import type { ColumnMask, ConnectionConfig, Facts, GovernedTool, Principal, ToolFamily } from '../tool-api.js';
import { ErrorCode, WardenError, toWardenError } from '../errors.js';
import { functionKey } from '../sql-names.js';
import { alternativesFor, familiesOf, grantableOn } from './engine.js';
import { decideToolCall } from './decide-tool.js';
import type { CompiledPolicy, Decision } from './types.js';
import { approvalRequirements, combinedTiming, requirementLabel } from './approval-terms.js';
import { whoDetail } from './who.js';

/** What explain needs: the active policy, the tools and the configured connections. */
export interface ExplainEnv {
  policy: CompiledPolicy;
  tools: GovernedTool<any, any>[];
  connections: ConnectionConfig[];
}

/** One masked output column predicted from the facts' lineage. */
export interface MaskPreview {
  column: string;
  strategy: string;
  source: string;
}

/** The whole explanation of one call; `--json` prints it as is. */
export interface ExplainReport {
  principal: { subject: string; groups: string[]; claims: Record<string, unknown> };
  tool: string;
  connection: string | null;
  /** The stage that ended the explanation: validate or parse errors stop before decide. */
  stage: 'validate' | 'parse' | 'decide';
  error?: { code: string; message: string };
  facts?: Facts;
  rules: { id: string; effect: 'allow' | 'deny'; matched: boolean; why: string; file: string; line: number }[];
  /** `approvals` lists every approval the call needs (all required); `approval` is its first, as before. */
  decision: { effect: 'allow' | 'deny'; rule_ids: string[]; reason: string; approval?: Decision['approval']; approvals?: Decision['approvals']; alternatives: string[] };
  masking?: { columns: MaskPreview[]; refused?: string };
  /**
   * Set when no rule judged the call: `case` for what the call itself gets wrong (an unknown tool,
   * invalid arguments, a connection the config does not have), `offline` when its parser needs
   * the backend. Why: `policy test` must not count such a deny as the policy's.
   */
  unjudged?: 'case' | 'offline';
}

/**
 * What an offline tool gets when it asks for a secret, i.e. for its backend. Why a class: explain
 * tells "cannot be decided offline" apart from a secret that fails on the running server.
 */
export class OfflineUnavailable extends WardenError {
  constructor() {
    super(ErrorCode.SECRET, 'offline analysis never resolves secrets');
  }
}

/** Instantiate the families for a config without connecting (connectors are lazy; secrets are never resolved). */
export function offlineFamilies(families: ToolFamily[], connections: ConnectionConfig[]): { family: ToolFamily; tools: GovernedTool<any, any>[] }[] {
  const secrets = {
    async resolve(): Promise<string> {
      throw new OfflineUnavailable();
    },
  };
  return families.map((family) => ({
    family,
    tools: family.create({ connections: connections.filter((c) => c.type === family.connectionType), secrets, log: () => undefined }).tools,
  }));
}

/** The governed tools of every family, offline (see offlineFamilies). */
export function offlineTools(families: ToolFamily[], connections: ConnectionConfig[]): GovernedTool<any, any>[] {
  return offlineFamilies(families, connections).flatMap((f) => f.tools);
}

/** Predict lineage masking for facts that carry output lineage (SQL); empty for other families. */
export function previewMasking(facts: Facts, columns: ColumnMask[], onDerived: 'deny' | 'mask'): { columns: MaskPreview[]; refused?: string } {
  const output = (facts as { output?: unknown }).output;
  if (!Array.isArray(output) || !columns.length) return { columns: [] };
  const out: MaskPreview[] = [];
  let refused: string | undefined;
  for (const o of output as { name: string; sources: { table: string; column: string }[]; derived: boolean; star?: string }[]) {
    const hits = o.sources.flatMap((s) => (s.column === '*' ? columns.filter((c) => c.column.startsWith(s.table + '.')) : columns.filter((c) => c.column === `${s.table}.${s.column}`)));
    if (!hits.length) continue;
    const star = o.sources.some((s) => s.column === '*');
    // As tools/postgres/column-masking.ts checkDerivedFlows: a base table's `*` runs, each column masked by itself.
    if (onDerived === 'deny' && (o.derived || (star && o.star !== 'table')) && !refused) {
      refused = `masked column ${hits[0]!.column} flows through ${star ? 'a whole-row reference' : 'an expression'} in output column "${o.name}" (on_derived: deny)`;
    }
    if (star && !o.derived) for (const h of hits) out.push({ column: h.column.split('.').at(-1)!, strategy: h.strategy, source: h.column });
    else out.push({ column: o.name, strategy: o.derived || hits.length > 1 ? 'redact' : hits[0]!.strategy, source: hits.map((h) => h.column).join(', ') });
  }
  refused ??= predicateRefusal(facts, columns);
  return refused ? { columns: out, refused } : { columns: out };
}

/**
 * As tools/postgres/function-bodies.ts (without views): under masks, the first function the
 * statement calls outside pg_catalog (facts spell those schema.name) that no `sql.functions:` of
 * the allowing rules names (as an allow compares them: lower case, quotes and pg_catalog. dropped).
 */
function untrustedBody(facts: Facts, columns: ColumnMask[], blocks: Record<string, unknown>[]): string | undefined {
  const fns = (facts as { functions?: unknown }).functions;
  if (!columns.length || !Array.isArray(fns)) return undefined;
  const named = new Set(blocks.flatMap((b) => ((b.sql as { functions?: unknown } | undefined)?.functions as unknown[] | undefined) ?? []).filter((f): f is string => typeof f === 'string').map(functionKey));
  return fns.find((f): f is string => typeof f === 'string' && f.includes('.') && !named.has(f));
}

/** As tools/postgres/predicate-channels.ts (without views): a masked column a predicate uses outside the outermost row filters. */
function predicateRefusal(facts: Facts, columns: ColumnMask[]): string | undefined {
  const used = (facts as { predicateColumns?: { column: { table: string; column: string }; where: string }[] }).predicateColumns ?? [];
  for (const p of used) {
    if (p.where.startsWith('top-')) continue;
    const s = p.column;
    const hit = columns.find((c) => (s.column === '*' ? c.column.startsWith(s.table + '.') : c.column === `${s.table}.${s.column}`));
    if (hit) return `masked column ${hit.column} is used in a predicate at ${p.where}, whose result the statement returns computed from its value`;
  }
  return undefined;
}

/**
 * The approval as explain shows it: an inline webhook URL cut to its origin. Why: a Slack or
 * generic webhook URL is a credential (whoever holds it posts to the channel), and explain's
 * report goes to stdout, CI logs and, through explain_call, to an agent and its transcript.
 * A reference (env:NAME, file:/path) is a name, not the secret, and is shown.
 */
export function withoutWebhookSecret<T extends { notify?: { webhook: string; format: string } | undefined }>(approval: T): T {
  const hook = approval.notify?.webhook;
  if (!hook || !/^https?:/i.test(hook)) return approval;
  let shown: string;
  try {
    shown = `${new URL(hook).origin}/…`;
  } catch {
    shown = '(an inline URL)';
  }
  return { ...approval, notify: { ...approval.notify!, webhook: shown } };
}

/** The engine's words for a principal outside a rule's `who:` (engine.ts whoMiss), with whom it names. */
const notInWho = (subject: string, detail: string): string => `principal ${subject} is not in who${detail ? ` (${detail})` : ''}`;

function deny(reason: string): ExplainReport['decision'] {
  return { effect: 'deny', rule_ids: [], reason, alternatives: [] };
}

/** Explain one call as the pipeline would see it (validate → parse → decide), never executing it. */
export async function explainCall(env: ExplainEnv, principal: Principal, toolName: string, args: unknown): Promise<ExplainReport> {
  const base = { principal: { subject: principal.subject, groups: principal.groups, claims: principal.claims }, tool: toolName, rules: [] };
  const tool = env.tools.find((t) => t.name === toolName);
  if (!tool) {
    const message = `unknown tool "${toolName}" (known: ${env.tools.map((t) => t.name).join(', ')})`;
    return { ...base, connection: null, stage: 'validate', error: { code: ErrorCode.UNKNOWN_TOOL, message }, decision: deny(message), unjudged: 'case' };
  }
  const r = tool.input.safeParse(args ?? {});
  const connName = typeof (args as { connection?: unknown } | null)?.connection === 'string' ? String((args as { connection: string }).connection) : null;
  if (!r.success) {
    const message = `invalid arguments for ${tool.name}: ${r.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(arguments)'}: ${i.message}`).join('; ')}`;
    return { ...base, connection: connName, stage: 'validate', error: { code: ErrorCode.INVALID_INPUT, message }, decision: deny(message), unjudged: 'case' };
  }
  const input = r.data as Record<string, unknown>;
  let connection: ConnectionConfig | null = null;
  if (tool.connectionTypes) {
    connection = env.connections.find((c) => c.name === input.connection && tool.connectionTypes!.includes(c.type)) ?? null;
    if (!connection) {
      const names = env.connections.filter((c) => tool.connectionTypes!.includes(c.type)).map((c) => c.name);
      const message = `unknown connection "${String(input.connection)}" for ${tool.name} (configured for it: ${names.join(', ') || 'none'})`;
      return { ...base, connection: connName, stage: 'validate', error: { code: ErrorCode.UNKNOWN_CONNECTION, message }, decision: deny(message), unjudged: 'case' };
    }
    // The pipeline answers a connection no allow could grant this principal as unknown too.
    if (!grantableOn(env.policy, principal, tool.discoveryFor ?? tool.name, connection.name, familiesOf(env.tools))) {
      const message = `unknown connection "${connection.name}" for ${tool.name}, as far as ${principal.subject} can tell: no allow rule could grant it ${tool.discoveryFor ?? tool.name} there`;
      // For the admin, the allows that name this tool and connection, and whom each one names.
      const name = tool.discoveryFor ?? tool.name;
      const near = env.policy.rules.filter((x) => x.effect === 'allow' && (!x.tools || x.tools.includes(name)) && (!x.on || x.on.includes(connection!.name)));
      const rules = near.map((x) => ({ id: x.id, effect: x.effect, matched: false, why: notInWho(principal.subject, whoDetail(x, principal)), file: x.file, line: x.line }));
      return { ...base, rules, connection: connection.name, stage: 'validate', error: { code: ErrorCode.UNKNOWN_CONNECTION, message }, decision: deny(message) };
    }
  } else {
    const message = `${tool.name} is a built-in tool: it is not governed by policy rules`;
    return { ...base, connection: null, stage: 'decide', decision: { effect: 'allow', rule_ids: [`builtin:${tool.name}`], reason: message, alternatives: [] } };
  }
  let facts: Facts;
  try {
    facts = await tool.parse(input, { principal, connection });
  } catch (e) {
    if (e instanceof OfflineUnavailable) {
      const message = `cannot be decided offline: ${tool.name} reads from connection ${connection.name} before the rules judge the call, and policy explain and test never contact a backend; ask the running server (the explain_call tool, admins only)`;
      return { ...base, connection: connection.name, stage: 'parse', error: { code: e.code, message }, decision: deny(message), unjudged: 'offline' };
    }
    const err = toWardenError(e, ErrorCode.PARSE);
    return { ...base, connection: connection.name, stage: 'parse', error: { code: err.code, message: err.message }, decision: deny(err.message) };
  }
  // As the pipeline decides (decide-tool.ts): a discovery tool by the grants of the tool it describes.
  const { decision: d } = decideToolCall(env.policy, principal, tool, { tool: tool.name, connection: connection.name, args: input }, facts);
  const approvals = approvalRequirements(d).map(withoutWebhookSecret);
  const byId = new Map(env.policy.rules.map((x) => [x.id, x]));
  const masking = previewMasking(facts, env.policy.masking.columns, env.policy.masking.onDerived);
  if (d.effect === 'allow' && !masking.refused) {
    const blocks = env.policy.rules.filter((x) => x.effect === 'allow' && d.ruleIds.includes(x.id)).map((x) => x.blocks);
    const fn = untrustedBody(facts, env.policy.masking.columns, blocks);
    if (fn) masking.refused = `${fn} is a function outside pg_catalog whose body Warden does not read, and no grant behind the decision names it in functions: (column masks apply)`;
  }
  return {
    ...base,
    connection: connection.name,
    stage: 'decide',
    facts,
    rules: d.trace.map((t) => {
      const rule = byId.get(t.id);
      const why = rule && !t.matched && t.why === notInWho(principal.subject, '') ? notInWho(principal.subject, whoDetail(rule, principal)) : t.why;
      return { ...t, why, file: rule?.file ?? '', line: rule?.line ?? 0 };
    }),
    // decide() works alternatives out for a deny only; explain lists them for an allow too.
    decision: { effect: d.effect, rule_ids: d.ruleIds, reason: d.reason, ...(approvals.length ? { approval: approvals[0]!, approvals } : {}), alternatives: d.effect === 'deny' ? d.alternatives : alternativesFor(env.policy, principal, tool.name, connection.name, [], familiesOf(env.tools)(tool.name)) },
    ...(masking.columns.length || masking.refused ? { masking } : {}),
  };
}

function renderValue(v: unknown): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '(none)';
    return v.map(renderItem).join(', ');
  }
  return renderItem(v);
}

function renderItem(v: unknown): string {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.program === 'string' && Array.isArray(o.args)) return [o.program, ...(o.args as unknown[]).map(String)].join(' ');
    if (typeof o.name === 'string' && Array.isArray(o.sources)) {
      const src = (o.sources as { table: string; column: string }[]).map((s) => `${s.table}.${s.column}`).join(' + ');
      return `${o.name} <- ${src || '(constant)'}${o.derived ? ' (derived)' : ''}`;
    }
    // A predicate's column (predicateColumns): schema.table.column @ place.
    if (typeof o.where === 'string' && o.column && typeof o.column === 'object') return `${renderItem(o.column)} @ ${o.where}`;
    // A column (readColumns, writtenColumns...): schema.table.column, '*' for the whole row.
    if (Object.keys(o).length === 2 && typeof o.table === 'string' && typeof o.column === 'string') return `${o.table}.${o.column}`;
    return JSON.stringify(v);
  }
  return String(v);
}

/** Human rendering: facts, every rule considered, the decision. */
export function formatExplain(r: ExplainReport): string {
  const lines: string[] = [];
  const p = r.principal;
  lines.push(`call: ${r.tool}${r.connection ? ` on ${r.connection}` : ''} as ${p.subject}${p.groups.length ? ` (groups: ${p.groups.join(', ')})` : ''}`);
  if (Object.keys(p.claims).length) lines.push(`claims: ${JSON.stringify(p.claims)}`);
  if (r.error && r.unjudged !== 'offline') lines.push(`${r.stage} failed: ${r.error.code}: ${r.error.message}`);
  if (r.facts) {
    lines.push('', `facts (${r.facts.family}): ${r.facts.summary}`);
    for (const [k, v] of Object.entries(r.facts)) {
      if (k === 'family' || k === 'summary') continue;
      lines.push(`  ${k}: ${renderValue(v)}`);
    }
  }
  if (r.rules.length) {
    lines.push('', 'rules:');
    for (const t of r.rules) lines.push(`  ${t.matched ? 'MATCH' : 'skip '} ${t.effect.padEnd(5)} ${t.id} (${t.file}:${t.line}): ${t.why}`);
  }
  if (r.masking) {
    lines.push('', 'masking:');
    for (const m of r.masking.columns) lines.push(`  ${m.column}: ${m.strategy} (from ${m.source})`);
    if (r.masking.refused) lines.push(`  refused at execution: ${r.masking.refused}`);
  }
  const d = r.decision;
  if (r.unjudged === 'offline') return [...lines, '', `decision: none here (${d.reason})`].join('\n') + '\n';
  lines.push('', `decision: ${d.effect.toUpperCase()}${d.rule_ids.length ? ` by ${d.rule_ids.join(', ')}` : ''}: ${d.reason}`);
  const needs = approvalRequirements(d);
  if (needs.length > 1) lines.push(`  needs ${needs.length} approvals, each its own request; the call runs only when every one is approved:`);
  needs.forEach((a, i) => {
    const terms = `${a.approvals} reviewer(s)${a.reviewers ? ` from ${JSON.stringify(a.reviewers)}` : ''}`;
    lines.push(needs.length > 1 ? `    ${requirementLabel(a.ruleId, i, needs.length)}: ${terms}` : `  needs approval (rule ${a.ruleId}): ${terms}`);
  });
  if (needs.length > 1) {
    const t = combinedTiming(needs);
    lines.push(`    every request expires ${t.expires / 1000}s after it is made (the shortest expires); the call waits up to ${t.wait / 1000}s for all of them (the shortest wait)`);
  }
  if (d.effect === 'deny' && d.alternatives.length) lines.push(`  instead you may use: ${d.alternatives.join(' | ')}`);
  return lines.join('\n') + '\n';
}
