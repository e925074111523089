/**
 * warden.yaml: transcripts, identity, connections (credentials as references only) and the
 * policy files to load. Each connection is validated by its family's own schema.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ConnectionConfig, ToolFamily } from '../tool-api.js';
import { ConfigError, readYamlSource, validateSource, type ConfigProblem } from './yaml-source.js';
import { SECRET_REF } from './secrets.js';
import { ORIGIN_ENTRY_HINT, parseOriginEntry } from './allowed-origins.js';

/** A secret reference field: `env:NAME` or `file:/path`, never an inline secret. */
export const secretRef = z.string().regex(SECRET_REF, 'must be a secret reference: env:NAME or file:/path (inline secrets are refused)');

/**
 * Durations like 5s, 250ms, 30m, 1h → milliseconds. A bare number is refused: it used to mean
 * seconds, which nothing documented, so `expires: 1800000` written in milliseconds kept an
 * approval usable for 20 days. (The integer stays in the union so the published JSON Schema is
 * unchanged; the refinement gives the message.)
 */
export const duration = z
  .string({ error: (iss) => (typeof iss.input === 'number' ? `a duration needs a unit: ${iss.input}ms, ${iss.input}s, ${iss.input}m or ${iss.input}h (a bare number is ambiguous)` : 'expected a duration such as 500ms, 5s, 30m or 1h') })
  .regex(/^\d+(ms|s|m|h)$/, 'expected a duration such as 500ms, 5s, 30m or 1h')
  .transform(parseDuration);

/**
 * The least `jwks_cooldown` may be. Why: a token with an unknown key id makes the verifier fetch
 * the issuer's JWKS again once the cooldown has passed; at 0 every such request (anyone can send
 * one) is a fetch from the identity provider.
 */
export const MIN_JWKS_COOLDOWN_MS = 1000;

/** Parse 500ms / 5s / 30m / 1h into milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(v);
  if (!m) throw new Error(`bad duration ${v}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
}

const identitySchema = z
  .object({
    stdio: z.object({ subject: z.string().min(1), groups: z.array(z.string()).default([]) }).strict().optional(),
    oidc: z
      .object({
        issuer: z.string().url(),
        audience: z.string().min(1),
        groups_claim: z.string().default('groups'),
        jwks_uri: z.string().url().optional(),
        algorithms: z.array(z.string()).optional(),
        /** Scopes every HTTP token must carry (403 insufficient_scope otherwise). */
        required_scopes: z.array(z.string().min(1)).default([]),
        /** Leeway for exp/nbf, and for an iat in the future. */
        clock_tolerance: duration.default(30_000),
        /** Minimum time between JWKS refetches caused by an unknown key id. */
        jwks_cooldown: duration
          .refine((ms) => ms >= MIN_JWKS_COOLDOWN_MS, `jwks_cooldown must be at least ${MIN_JWKS_COOLDOWN_MS / 1000}s: below that, every token with an unknown key id refetches the issuer's keys`)
          .default(30_000),
        /** Maximum age of the cached JWKS. */
        jwks_max_age: duration.default(600_000),
        /** RFC 9068 typ check; off by default because some IdPs type access tokens `JWT` too. */
        require_access_token_type: z
          .boolean()
          .default(false)
          .describe('Refuse tokens whose header typ is present and is not at+jwt (RFC 9068), e.g. an ID token (typ JWT) sent as a bearer token. Off by default: some IdPs (Keycloak, Entra ID) type access tokens JWT too.'),
        max_token_age: duration
          .refine((ms) => ms >= 1000, 'max_token_age must be at least 1s')
          .optional()
          .describe('Refuse tokens issued (iat) longer ago than this (e.g. 1h), even when exp is later; a token without iat is then refused. Sessions and SSE streams end when their token reaches this age. Default: no maximum age beyond exp.'),
      })
      .strict()
      .optional(),
  })
  .strict();

/** `admins:` who may use admin-only tools (explain_call); omitted = nobody. */
export const adminsSchema = z
  .object({ subjects: z.array(z.string().min(1)).default([]), groups: z.array(z.string().min(1)).default([]) })
  .strict();

/** `ui:` the reviewer web UI under /ui of `serve --http`; the one-time login link acts as local_reviewer. */
export const uiSchema = z
  .object({
    enabled: z.boolean().default(true),
    local_reviewer: z.object({ subject: z.string().min(1), groups: z.array(z.string().min(1)).default([]) }).strict().default({ subject: 'local-reviewer', groups: [] }),
  })
  .strict();

/** `http:` HTTP guards for MCP and the reviewer UI (DNS rebinding, cross-origin requests, body size). */
export const httpSchema = z
  .object({
    allowed_hosts: z
      .array(z.string().min(1))
      .default([])
      .describe('Extra names a request may give in its Host header (a hostname; any port), e.g. the name a proxy forwards. Not an allowed Origin by itself.'),
    allowed_origins: z
      .array(z.string().min(1).refine((s) => parseOriginEntry(s) !== null, ORIGIN_ENTRY_HINT))
      .default([])
      .describe(
        "Extra browser origins allowed besides this server's own (its bind address and port, and the origin of identity.oidc.audience). An origin (https://app.example.com, http://localhost:5173) is compared whole: scheme, host and port. A bare hostname allows that host on this server's own scheme and port only.",
      ),
    max_body_bytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
  })
  .strict();

/** Limits shared by `rate_limits:` (per principal) and a rule's `limits:` (per principal and rule). */
export const callLimitsSchema = z
  .object({
    calls_per_minute: z.number().int().positive().optional(),
    concurrent: z.number().int().positive().optional(),
    rows_per_hour: z.number().int().positive().optional(),
    bytes_per_hour: z.number().int().positive().optional(),
  })
  .strict();

const rateLimitsSchema = callLimitsSchema;

const baseSchema = z
  .object({
    transcripts: z
      .object({
        store: z.string().default('sqlite:recordings/warden.db'),
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
      })
      .strict()
      .default({ store: 'sqlite:recordings/warden.db', synchronous: 'FULL', writer: 'inline', read_intent: 'before' }),
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
    ui: uiSchema.default({ enabled: true, local_reviewer: { subject: 'local-reviewer', groups: [] } }),
    http: httpSchema.default({ allowed_hosts: [], allowed_origins: [], max_body_bytes: 1024 * 1024 }),
    rate_limits: rateLimitsSchema.default({}),
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
  transcripts: { store: string; synchronous: 'FULL' | 'NORMAL'; signing_key?: string; writer: 'inline' | 'thread'; read_intent: 'overlap' | 'before' };
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
}

/** Load and validate warden.yaml; throws ConfigError listing every problem with its line. */
export function loadServerConfig(file: string, families: ToolFamily[], text?: string): ServerConfig {
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
          errs.push({ file: full, line: src.lineOf(path), path: path.join('.'), message: k ? 'unknown key' : issue.message, severity: 'error' });
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
    policyPatterns: value.policies.map((p) => (isAbsolute(p) ? p : join(baseDir, p))),
  };
}

function rawConnections(data: unknown): Record<string, { type: string }> {
  const c = (data as { connections?: unknown } | null)?.connections;
  if (!c || typeof c !== 'object' || Array.isArray(c)) return {};
  return Object.fromEntries(Object.entries(c as Record<string, unknown>).filter(([, v]) => v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string')) as Record<string, { type: string }>;
}

/**
 * Expand `dir/*.yaml` style patterns (a `*` in the file name only, never matching a leading dot)
 * relative to the config folder.
 * `at` names the config file and the line of each pattern, for an error that points at it.
 */
export function expandPolicyGlobs(patterns: string[], baseDir: string, at?: { file: string; lineOf: (index: number) => number }): string[] {
  const out: string[] = [];
  for (const [i, pat] of patterns.entries()) {
    const abs = isAbsolute(pat) ? pat : join(baseDir, pat);
    const name = basename(abs);
    if (!name.includes('*')) {
      out.push(abs);
      continue;
    }
    const dir = dirname(abs);
    const matches = policyNameMatcher(name);
    let entries: string[] = [];
    try {
      entries = readdirSync(dir).filter(matches).sort();
    } catch {
      throw new ConfigError([{ file: at?.file ?? join(baseDir, 'warden.yaml'), line: at ? at.lineOf(i) : 0, path: `policies.${i}`, message: `policy folder ${dir} cannot be read`, severity: 'error' }]);
    }
    out.push(...entries.map((f) => join(dir, f)));
  }
  return [...new Set(out)];
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether a file name matches a pattern's file-name part (`*` any run of characters). As in a
 * shell, `*` does not match a leading dot: `.old-grants.yaml`, an admin's way to set a file aside,
 * and editor lock files such as emacs's `.#rules.yaml` are not policies. Why exported: the policy
 * watcher must react to exactly the files the loader reads.
 */
export function policyNameMatcher(name: string): (file: string) => boolean {
  const re = new RegExp('^' + name.split('*').map(escapeRe).join('[^/]*') + '$');
  return (f) => re.test(f) && (!f.startsWith('.') || name.startsWith('.'));
}

/**
 * A `policies:` pattern that matches no file: a warning at its line in the config file. Why: a
 * typo in a glob otherwise loads as "0 rules", and with nothing allowed the admin sees no hint
 * why (`policy check` prints it; `serve` logs it).
 */
export function unmatchedPolicyPatterns(config: ServerConfig): ConfigProblem[] {
  const src = readYamlSource(config.file);
  const written = (src.data as { policies?: unknown } | null)?.policies;
  const out: ConfigProblem[] = [];
  config.policyPatterns.forEach((pattern, i) => {
    if (expandPolicyGlobs([pattern], config.baseDir).length > 0) return;
    const as = Array.isArray(written) && typeof written[i] === 'string' ? written[i] : pattern;
    const path = Array.isArray(written) ? ['policies', i] : ['policies'];
    out.push({ file: config.file, line: src.lineOf(path), path: path.join('.'), message: `${as}${Array.isArray(written) ? '' : ' (the default)'} matches no policy file`, severity: 'warning' });
  });
  return out;
}
