/**
 * The one interface a governed tool implements.
 *
 * A protocol family (postgres, ssh, kubernetes) lives in its own folder under `tools/` and
 * imports only this file (plus its own libraries). The pipeline knows nothing about SQL,
 * shells or pods: it calls `parse` to get facts, asks the policy engine (which evaluates the
 * family's own condition blocks, e.g. `sql:`), then calls `execute`, then masks and records.
 */
import type { z } from 'zod';
import { ErrorCode, NOTHING_SENT, WardenError } from './errors.js';

export { ErrorCode, NOTHING_SENT, WardenError };
/** SQL identifier rules for names in policies (one parser for the core and the postgres family). */
export { functionKey, sqlNameParts } from './sql-names.js';
/** The query parameters of a PostgreSQL URL pg would read over Warden's session settings (the postgres family and the transcript store refuse them). */
export { pgUrlAddress, pgUrlSessionParams, readPgUrl } from './pg-url-params.js';
/** The PostgreSQL transcript store's tables and fingerprint (a postgres connection must not reach them). */
export { PG_CLUSTER_ID_SQL, PG_STORE_FINGERPRINT, PG_STORE_TABLES } from './pg-store-tables.js';
/** Deep-frozen facts a parser may cache (the recorder serialises them once). */
export { isSealed, sealFacts } from './sealed-facts.js';
export type { ErrorCodeValue, ErrorDetails } from './errors.js';

/** Who is calling. Built by `src/identity`, never by a tool or an agent. */
export interface Principal {
  subject: string;
  groups: string[];
  /** Verified token claims (OIDC) or {} for local/stdio principals. */
  claims: Record<string, unknown>;
  /** How the principal was established; recorded in transcripts. */
  authMethod: 'stdio' | 'oidc' | 'local';
}

/**
 * The key under which per-principal limits count a caller: rate limits and quotas, and a
 * family's own shares (an SSH connection's sessions per principal). Why one definition: a
 * principal must be one tenant for every limit, so no limit can be sidestepped by a spelling
 * another limit would count as someone else.
 */
export function principalKey(p: Pick<Principal, 'authMethod' | 'subject'>): string {
  return `${p.authMethod}:${p.subject}`;
}

/** A connection entry of warden.yaml after validation by the family's schema. */
export interface ConnectionConfig {
  name: string;
  type: string;
  [key: string]: unknown;
}

/** Resolves `env:NAME` / `file:/path` references inside Warden. Values never leave. */
export interface SecretResolver {
  resolve(ref: string): Promise<string>;
}

/**
 * What a parser understood about one call. Families extend this with their own fields;
 * `summary` is a one-line human rendering used in transcripts, explain and the UI.
 */
export interface Facts {
  family: string;
  summary: string;
}

/** The view of a call that conditions and tools receive (arguments already validated). */
export interface CallView {
  tool: string;
  connection: string | null;
  args: Record<string, unknown>;
}

/** Result of one condition block for one rule: matched or not, and why (for explain). */
export interface ConditionResult {
  matched: boolean;
  why: string;
  /**
   * A deny's match that rests only on facts the tool could not learn (an absent pod's labels):
   * it overrides an allow that matched, but when no allow matched the call is refused as no rule
   * allowing it. Why: the refusal would otherwise name the deny for an absent object and not for
   * a present one outside every allow, telling which exists (the call is refused either way).
   */
  presumed?: boolean;
}

/**
 * A compiled condition. For an allow rule, `matched` means the facts lie entirely within the
 * grant; for a deny rule, it means the facts touch what is denied. The family decides both.
 */
export type CompiledCondition = (facts: Facts, call: CallView) => ConditionResult;

/** A policy condition block owned by a family, e.g. `sql:` for postgres or `shell:` for ssh. */
export interface ConditionSpec {
  /** The key in a rule, e.g. 'sql'. */
  key: string;
  /** Facts families this block can judge; a rule whose block cannot judge the facts never matches. */
  families: string[];
  /** zod schema of the block (strict: unknown keys are errors). */
  schema: z.ZodType;
  /** Compile once at load; the returned function runs per call. */
  compile(block: unknown, rule: { id: string; effect: 'allow' | 'deny' }): CompiledCondition;
  /** One-line description of what an allow block grants, for list_connections. */
  describe?(block: unknown): string;
  /**
   * Warnings for `warden policy check` about an allow block that loads fine but grants more
   * than it seems to. Why here: only the family knows what its keys reach, and the linter
   * never imports a family. `key` is the path inside the block.
   */
  lint?(block: unknown): { key: (string | number)[]; message: string }[];
}

/** What a tool returns, the masks it is given, the policy asked again (tool-output.ts). */
export type { CallJudge, ColumnMask, ColumnMeta, ItemJudgement, MaskingContext, ToolOutput } from './tool-output.js';
import type { CallJudge, ColumnMask, ColumnMeta, ItemJudgement, MaskingContext, ToolOutput } from './tool-output.js';

/** Limits that apply to one execution (from the connection and the call). */
export interface ExecLimits {
  timeoutMs: number;
  maxRows: number;
  maxBytes: number;
}

/** Services a tool may use while executing. */
export interface ExecContext {
  principal: Principal;
  connection: ConnectionConfig | null;
  limits: ExecLimits;
  masking: MaskingContext;
  /** Aborted when the client cancels or the server shuts down. */
  signal: AbortSignal;
  /** True when the decision allows only reading (the tool must enforce it, e.g. READ ONLY). */
  readOnly: boolean;
  /** Structured, secret-free log to stderr. */
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
  /** Core services for built-in tools (discovery, approvals); families ignore it. */
  core?: unknown;
  /** For discovery tools: the condition blocks (by key) of the allow rules behind the decision. */
  grants?: Record<string, unknown>[];
  /**
   * The policy asked again about facts learnt while executing. Given to every tool of a
   * connection family; absent elsewhere (a tool then judges nothing allowed: fail closed).
   */
  judge?: CallJudge;
}

/** Context for parsing: no backend access, so analysis is cacheable and explainable offline. */
export interface ParseContext {
  principal: Principal;
  connection: ConnectionConfig | null;
}

/** MCP tool annotations, kept honest. */
export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** A governed tool. Every call to it goes through the whole pipeline. */
export interface GovernedTool<I extends Record<string, unknown> = Record<string, unknown>, F extends Facts = Facts> {
  name: string;
  title: string;
  description: string;
  /** Connection types this tool serves; null for tools without a connection. */
  connectionTypes: string[] | null;
  /** Strict zod schema of the arguments. */
  input: z.ZodType<I>;
  /** zod schema of structuredContent (the pipeline adds the common envelope). */
  output?: z.ZodType;
  annotations: ToolAnnotations;
  /** Turn validated input into facts; throw WardenError(PARSE) when not fully understood. */
  parse(input: I, ctx: ParseContext): F | Promise<F>;
  /** Run exactly what was analysed, with server-held credentials and guards. */
  execute(input: I, facts: F, ctx: ExecContext): Promise<ToolOutput>;
  /** Whether the facts describe a call that only reads (drives readOnly execution). */
  isReadOnly?(facts: F): boolean;
  /** Canonical form of the arguments for approval binding (defaults to sorted JSON). */
  canonicalArgs?(input: I, facts: F): Record<string, unknown>;
  /**
   * canonicalArgs with the text as it would run whatever its spelling (SQL tokens, a rebuilt
   * script): the deny cooldown's key, never an approval's (default canonicalArgs).
   */
  cooldownArgs?(input: I, facts: F): Record<string, unknown>;
  /**
   * Where `connection` reaches as its secret references resolve in this process, as a digest
   * without any secret in it (a database URL's host, port, database and user, never its password):
   * bound with an approval beside the configured entry (approvals/canonical.ts), since an entry
   * such as `url: env:DATABASE_URL` names no database, the variable does. Computed only for a call
   * that needs approval. Absent: the configured entry names the target itself (ssh `host:`).
   */
  connectionTarget?(connection: ConnectionConfig): Promise<string>;
  /**
   * A discovery tool (e.g. describe_database) is granted wherever some allow rule grants the
   * named tool on the same connection to the same principal; its ExecContext.grants then holds
   * those rules' condition blocks, so it can describe exactly what they grant.
   */
  discoveryFor?: string;
  /**
   * The facts family of the described tool's calls (query_database: `sql`). An allow rule with a
   * block that cannot judge such calls (`shell:`) never grants that tool, so it grants no
   * discovery either. Absent: only allow rules without condition blocks count (fail closed).
   */
  discoveryFamily?: string;
  /**
   * The family of the facts `parse` returns (query_database: `sql`, ssh_run: `shell`). Discovery
   * (tools/list, list_connections, the unknown-connection answer) then counts only the allow rules
   * whose every block judges such calls: a rule with only a `shell:` block and no `tool:` never
   * grants query_database, so it shows no database. Absent: every rule naming the tool counts.
   */
  factsFamily?: string;
}

/** What a family needs from Warden to start. */
export interface FamilyDeps {
  connections: ConnectionConfig[];
  secrets: SecretResolver;
  log: ExecContext['log'];
  /**
   * A PostgreSQL transcript store's system identifier (null: unreadable) and the host and port of
   * its URL; absent for SQLite. Why: a connection on its cluster must not reach it, and a foreign
   * server vouched for must not name its address (tools/postgres/outbound-reach.ts, vouched-servers.ts).
   */
  storeCluster?: { systemIdentifier: string | null; address?: { host: string; port: number } };
}

/** What warden.yaml's `connections:` entries of one family are: their `type:` and their schema. */
export interface ConnectionType {
  name: string;
  /** The `type:` value of its connections in warden.yaml. */
  connectionType: string;
  /** zod schema for a connection entry of this type (without name/type). */
  connectionSchema: z.ZodType;
}

/**
 * A protocol family: its connection type (all that reading warden.yaml needs, so the CLI's store
 * commands load no tool: tools/connection-types.ts), its policy blocks and its tools.
 */
export interface ToolFamily extends ConnectionType {
  conditions: ConditionSpec[];
  /** Instantiate the family for a config; the returned tools close over its connectors. */
  create(deps: FamilyDeps): FamilyInstance;
}

/** A started family. */
export interface FamilyInstance {
  tools: GovernedTool<any, any>[];
  /** Release pools and sockets. */
  close(): Promise<void>;
}

/** Throw a coded parse error (helper for parsers). */
export function parseError(message: string, details: Record<string, unknown> = {}): WardenError {
  return new WardenError(ErrorCode.PARSE, message, details);
}
