/**
 * warden.yaml: transcripts, identity, connections (credentials as references only) and the
 * policy files to load. Each connection is validated by its family's own schema. The reusable
 * schema blocks are in schema-parts.ts, the `policies:` globs in policy-globs.ts.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ConnectionConfig, ConnectionType } from '../tool-api.js';
import { readPgUrl } from '../tool-api.js';
import { ConfigError, readYamlSource, validateSource, type ConfigProblem } from './yaml-source.js';
import { keysAt, unknownKeyMessage } from './key-hints.js';
import { adminsSchema, callLimitsSchema, DEFAULT_HTTP_LIMITS, duration, httpSchema, identitySchema, parseDuration, secretRef, uiSchema } from './schema-parts.js';
import { expandPolicyGlobs } from './policy-globs.js';

const rateLimitsSchema = callLimitsSchema;
/** transcripts.liveness_grace by default: pg-liveness-sql.ts LIVENESS_GRACE_MS. */
const DEFAULT_LIVENESS_GRACE = '5s';

/** A PostgreSQL role name (transcripts.owner, transcripts.trusted_roles): at most 63 bytes (NAMEDATALEN), no control characters. */
const pgRoleName = z
  .string()
  .min(1)
  .refine((n) => Buffer.byteLength(n) <= 63 && !/[\u0000-\u001f\u007f]/.test(n), 'a PostgreSQL role name: at most 63 bytes, no control characters');

/** Whether a transcripts.store spec is a postgres:// URL carrying a password (user:password@, or ?password=, however encoded). */
function inlinePassword(spec: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(spec)) return false;
  const authority = spec.replace(/^postgres(ql)?:\/\//i, '').split(/[/?#]/)[0] ?? '';
  const at = authority.lastIndexOf('@');
  if ((at >= 0 && authority.slice(0, at).includes(':')) || /[?&]password=/i.test(spec)) return true;
  // As pg reads it (readPgUrl): query keys are percent-decoded (`?pass%77ord=` is `password`), as is the userinfo.
  const u = readPgUrl(spec);
  return u !== null && (u.password !== '' || u.searchParams.has('password'));
}

const baseSchema = z
  .object({
    transcripts: z
      .object({
        store: z
          .string()
          // A password written into warden.yaml sits where every reader of the config sees it (principle 6):
          // a postgres:// URL with one must come from a reference (env:NAME, file:/path), as connection URLs do.
          .refine((s) => !inlinePassword(s), 'a postgres:// URL with a password inline: put the URL in a secret reference (env:NAME or file:/path), as connection URLs are')
          .default('sqlite:recordings/warden.db'),
        synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
        /** Ed25519 private key (PEM) that signs the chain head, so that a truncated tail is detectable. */
        signing_key: secretRef.optional(),
        /** SQLite writes: group commit on the serving thread (default) or on a writer thread. */
        writer: z.enum(['inline', 'thread']).default('inline'),
        /**
         * When a read-only call's intent is committed: `before` (default) commits it before the
         * statement starts, as DESIGN.md principle 7 says; `overlap` commits it while the
         * statement is in flight (about 0.1-0.2 ms faster per read) and never releases a result
         * before it, but a read whose intent then fails to commit has already run, unrecorded.
         * Calls that may change anything always wait for a durable intent.
         */
        read_intent: z
          .enum(['overlap', 'before'])
          .default('before')
          .describe('When a read-only call\'s intent commits: before (default: the statement waits for it) or overlap (while the statement runs; no result is released before it, but a read whose intent fails to commit has run unrecorded). Calls that may write always wait for a durable intent.'),
        /**
         * PostgreSQL store only: the role that owns the store's tables (the writer's). Verify
         * checks every table against it, the writer's and an auditor's alike (pg-verify-privileges.ts).
         */
        owner: pgRoleName
          .optional()
          .describe("PostgreSQL store only: the writer's role, which must own every table of the store. `warden transcripts verify` checks each table's owner against it, as the writer and as an auditor; a table owned by another role is a finding. Unset, the writer's verify expects its own role and an auditor's the owner of schema_version, so an auditor does not see every table moved to one new owner at once."),
        /**
         * PostgreSQL store only: roles verify trusts like the owner in its role and schema checks
         * (pg-verify-roles.ts), e.g. a managed service's admin role, which cannot be removed.
         */
        trusted_roles: z
          .array(pgRoleName)
          .default([])
          .describe("PostgreSQL store only: roles `warden transcripts verify` trusts like the owner, such as a managed service's admin role that cannot be removed (the RDS/Aurora master user, cloudsqlsuperuser, azure_pg_admin). Verify does not report them as members of the owner (or of pg_write_all_data), as superusers, as CREATEROLE holders (PostgreSQL 15 and older), as the store schema's owner (or the database's, when pg_database_owner owns the schema) or as holders of CREATE on it. A write right granted to one on a store table (directly or through the owner's default privileges), triggers, rules and the store functions' owner are still checked. Their members are not trusted: a role that reaches the owner through a trusted role is still reported."),
        /**
         * PostgreSQL store only: how long a replica's liveness lock must stay free before the
         * others take it as dead (recovery and the shared rate limits alike, pg-liveness-sql.ts).
         */
        liveness_grace: duration
          .refine((ms) => ms >= 1000 && ms <= 300_000, 'liveness_grace must be between 1s and 5m')
          .prefault(DEFAULT_LIVENESS_GRACE)
          .describe(`PostgreSQL store (several replicas) only: how long a replica's liveness lock must stay free before the others take it as dead, mark its running calls interrupted, close its sessions and free its rate-limit slots. Longer rides out longer network blips of a live replica; shorter recovers a killed one sooner. Use the same value on every replica.`),
      })
      .strict()
      .default({ store: 'sqlite:recordings/warden.db', synchronous: 'FULL', writer: 'inline', read_intent: 'before', trusted_roles: [], liveness_grace: parseDuration(DEFAULT_LIVENESS_GRACE) }),
    identity: identitySchema.default({}),
    connections: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'connection names use letters, digits, _ . -'), z.object({ type: z.string() }).passthrough()).default({}),
    policies: z.array(z.string()).default(['policies/*.yaml']),
    masking: z.object({ hash_key: secretRef.optional() }).strict().default({}),
    limits: z
      .object({
        max_input_bytes: z.number().int().positive().default(64 * 1024),
        max_result_bytes: z.number().int().positive().default(1024 * 1024),
      })
      .strict()
      .default({ max_input_bytes: 64 * 1024, max_result_bytes: 1024 * 1024 }),
    admins: adminsSchema.default({ subjects: [], groups: [] }),
    ui: uiSchema.prefault({ enabled: true, local_reviewer: { subject: 'local-reviewer', groups: [] } }),
    // prefault: the default is parsed like a written value (request_timeout is written as a duration).
    http: httpSchema.prefault({ allowed_hosts: [], allowed_origins: [], max_body_bytes: 1024 * 1024, ...DEFAULT_HTTP_LIMITS }),
    rate_limits: rateLimitsSchema.default({}),
    approvals: z
      .object({
        cli_as: z
          .enum(['allow', 'refuse'])
          .default('allow')
          .describe(
            "Whether `warden approvals approve|deny --as SUBJECT` is accepted. --as is a claim of identity Warden cannot check (whoever can read warden.yaml and write the store can name anyone). allow (default, for existing setups); refuse: approve and deny need a verified OIDC token (--token JWT or WARDEN_TOKEN), and --as is a usage error naming WARDEN_UNAUTHENTICATED. refuse also turns off the UI's one-time login link unless ui.local_login says otherwise.",
          ),
        // The service's own default when not told (approvals/subjects.ts DEFAULT_PERSON_CLAIMS).
        person_claims: z
          .array(z.string().min(1))
          .default(['email'])
          .describe(
            'Token claims whose values name a person whatever identity source presents them. A request records the values of these claims in the requester\'s token (at most 16, of at most 320 characters; more refuse the call with WARDEN_DENIED). A reviewer any of whose names (its subject and these claims\' values) is the requester\'s subject, an actor of its delegation chain or one of those recorded values is the requester and cannot approve or deny, compared as subjects are (case, width, hidden characters and trailing dots folded). Default [email]: sam signed in with the IdP\'s opaque sub and email sam@corp.example cannot approve what the agent running as sam@corp.example (stdio, or another issuer whose sub is the email) asked, nor what an agent whose token carries email sam@corp.example with another sub asked. Each decision records the reviewer\'s values too (bounded and refused alike), and one person counts once among distinct reviewers (approvals: 2) by any of these names: dana approving with her opaque sub and email dana@corp.example and again as dana@corp.example counts once. [] compares subjects only.',
          ),
      })
      .strict()
      .default({ cli_as: 'allow', person_claims: ['email'] }),
    responses: z
      .object({
        /**
         * Off (default): a successful result is its text rendering only (tab-separated rows for
         * tables), which is what agents read. On: results also carry MCP structuredContent and
         * the tools declare an outputSchema, for typed clients. Errors always carry their code
         * as structured content. Transcripts store the structured result either way.
         */
        structured_content: z
          .boolean()
          .default(false)
          .describe('Also send results as MCP structuredContent and declare outputSchema (for typed clients). Off by default: agents read the text, and a 1,000-row table is then sent once instead of twice.'),
      })
      .strict()
      .default({ structured_content: false }),
  })
  .strict();

/** The generic warden.yaml schema (connections are checked per family); exported for JSON Schema generation. */
export const serverConfigSchema = baseSchema;

/** The loaded server configuration. */
export interface ServerConfig {
  file: string;
  baseDir: string;
  transcripts: { store: string; synchronous: 'FULL' | 'NORMAL'; signing_key?: string; owner?: string; trusted_roles: string[]; writer: 'inline' | 'thread'; read_intent: 'overlap' | 'before'; liveness_grace: number };
  identity: z.infer<typeof identitySchema>;
  connections: ConnectionConfig[];
  policyFiles: string[];
  masking: { hash_key?: string };
  limits: { max_input_bytes: number; max_result_bytes: number };
  /** Principals allowed to use admin-only tools such as explain_call. */
  admins: { subjects: string[]; groups: string[] };
  /** The reviewer UI. */
  ui: z.infer<typeof uiSchema>;
  /** Streamable HTTP guards. */
  http: z.infer<typeof httpSchema>;
  /** Per-principal call limits (defaults; rules add their own `limits:`). */
  rate_limits: z.infer<typeof callLimitsSchema>;
  /** The `policies:` patterns as written (policy-watch watches their folders). */
  policyPatterns: string[];
  /** What a tool result carries on the wire. */
  responses: { structured_content: boolean };
  /** The reviewer CLI: whether --as (an unchecked identity claim) may approve or deny. */
  approvals: { cli_as: 'allow' | 'refuse'; person_claims: string[] };
}

/** Load and validate warden.yaml; throws ConfigError listing every problem with its line. */
export function loadServerConfig(file: string, families: readonly ConnectionType[], text?: string): ServerConfig {
  const full = resolve(file);
  const src = readYamlSource(full, text);
  // A file caught empty (an editor that truncates before it writes, `> warden.yaml`) would load every
  // default, `policies/*.yaml` among them: on a reload, another set of policies than the one written.
  if (src.empty) throw new ConfigError([{ file: full, line: 1, path: '', message: 'configuration file is empty (it would load the defaults, policies/*.yaml among them); write at least `policies: [...]`', severity: 'error' }]);
  const { value, problems } = validateSource(src, baseSchema);
  const connections: ConnectionConfig[] = [];
  const errs: ConfigProblem[] = [...problems];
  const rawConns = value?.connections ?? rawConnections(src.data);
  for (const [name, raw] of Object.entries(rawConns)) {
    const fam = families.find((f) => f.connectionType === raw.type);
    if (!fam) {
      errs.push({ file: full, line: src.lineOf(['connections', name, 'type']), path: `connections.${name}.type`, message: `unknown connection type "${raw.type}" (known: ${families.map((f) => f.connectionType).join(', ')})`, severity: 'error' });
      continue;
    }
    const { type: _t, ...rest } = raw;
    const r = fam.connectionSchema.safeParse(rest);
    if (!r.success) {
      for (const issue of r.error.issues) {
        const p = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
        for (const k of keys) {
          const path = ['connections', name, ...p, ...(k ? [k] : [])];
          errs.push({ file: full, line: src.lineOf(path), path: path.join('.'), message: k ? unknownKeyMessage(fam.connectionSchema, p, k, keysAt(rest, p)) : issue.message, severity: 'error' });
        }
      }
      continue;
    }
    connections.push({ ...(r.data as Record<string, unknown>), name, type: raw.type });
  }
  if (errs.length || !value) throw new ConfigError(errs.sort((a, b) => a.line - b.line));
  const baseDir = dirname(full);
  return {
    file: full,
    baseDir,
    transcripts: value.transcripts,
    identity: value.identity,
    connections,
    policyFiles: expandPolicyGlobs(value.policies, baseDir, { file: full, lineOf: (i) => src.lineOf(['policies', i]) }),
    masking: value.masking,
    limits: value.limits,
    admins: value.admins,
    ui: value.ui,
    http: value.http,
    rate_limits: value.rate_limits,
    responses: value.responses,
    approvals: value.approvals,
    policyPatterns: value.policies.map((p) => (isAbsolute(p) ? p : join(baseDir, p))),
  };
}

function rawConnections(data: unknown): Record<string, { type: string }> {
  const c = (data as { connections?: unknown } | null)?.connections;
  if (!c || typeof c !== 'object' || Array.isArray(c)) return {};
  return Object.fromEntries(Object.entries(c as Record<string, unknown>).filter(([, v]) => v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string')) as Record<string, { type: string }>;
}

/**
 * Whether the UI's one-time login link is refused: `ui.local_login` when set, else as
 * `approvals.cli_as` (both are identities Warden cannot check; refusing one refuses the other).
 */
export function localLoginRefused(c: Pick<ServerConfig, 'ui' | 'approvals'>): boolean {
  return c.ui.local_login ? c.ui.local_login === 'refuse' : c.approvals.cli_as === 'refuse';
}
