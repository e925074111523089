/**
 * The parts of the warden.yaml schema that other schemas and modules reuse: secret references,
 * durations, and the identity, admins, ui, http and call-limit blocks. Kept apart from the loader
 * (server-config.ts) so that the policy schema can share them without the loading code.
 */
import { z } from 'zod';
import { SECRET_REF } from './secrets.js';
import { ORIGIN_ENTRY_HINT, parseOriginEntry } from './allowed-origins.js';
import { durationSpelling } from './key-hints.js';

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
  .regex(/^\d+(ms|s|m|h)$/, {
    error: (iss) => {
      const said = typeof iss.input === 'string' ? durationSpelling(iss.input) : null;
      return `expected a duration such as 500ms, 5s, 30m or 1h${said ? `: write ${said}` : ''}`;
    },
  })
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

/**
 * What separates names in a flattened list (`staff contractors`, `staff,contractors`): whitespace,
 * commas, semicolons. Why here: `identity.oidc.groups_string` (below) is described by it, the
 * groups claim is read with it (identity/claims.ts), and a deny's `claims:` matches each word of a
 * string claim split by it (policy/who.ts), so all three agree on what a word is.
 */
export const NAME_LIST_SEPARATORS = /[\s,;]+/u;

/**
 * Token claims that change on every token (time claims, token and IdP-session ids, Entra ID's
 * `uti`, `rh`, `aio`): Warden keeps them off the principal (identity/claims.ts), since an HTTP
 * session is bound to the principal and would otherwise end at every token refresh. Why here: the
 * policy linter refuses a rule naming one (policy/lint-names.ts), which could never match: a deny
 * on `jti` (one leaked token) or `sid` (one IdP session) loaded and stopped nothing.
 */
export const PER_TOKEN_CLAIMS: ReadonlySet<string> = new Set(['exp', 'nbf', 'iat', 'jti', 'auth_time', 'at_hash', 'c_hash', 'nonce', 'sid', 'uti', 'rh', 'aio']);

/** `identity.oidc.dpop:` DPoP proof checking on /mcp (identity/dpop-proof.ts, server/http-dpop.ts). */
const dpopSchema = z
  .object({
    required: z.boolean().default(false).describe('Refuse plain bearer tokens on /mcp: every request must carry a DPoP-bound token and its proof. Off: bearer tokens without cnf are served too.'),
    max_age: duration
      .refine((ms) => ms >= 1000 && ms <= 300_000, 'dpop.max_age must be between 1s and 5m')
      .prefault('60s')
      .describe("How old a proof's iat may be (at most 5m); its jti is remembered this long (plus clock_skew) so that it is used once."),
    clock_skew: duration
      .refine((ms) => ms <= 60_000, 'dpop.clock_skew must be at most 60s')
      .prefault('5s')
      .describe("Leeway for a proof's iat against Warden's clock, both ways (at most 60s)."),
    replay_cache_size: z
      .number()
      .int()
      .min(1000)
      .max(10_000_000)
      .default(100_000)
      .describe('Proof ids (jti) remembered at once, per Warden process. When it is full of ids still inside their window, a new proof is refused with 503 temporarily_unavailable and Retry-After (fail closed) rather than forgetting an id that could then be replayed.'),
    public_url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'an http(s) URL')
      .optional()
      .describe("The URL clients send MCP requests to (behind a proxy: the public one, e.g. https://warden.example.com/mcp), which a proof's htu must name. Default: identity.oidc.audience when it is an http(s) URL (an audience that is an origin alone means its /mcp)."),
    nonce: z
      .boolean()
      .default(false)
      .describe('Server-provided nonces (RFC 9449 section 9): every proof must carry a nonce Warden issued in the current or the previous nonce_lifetime window. One without is refused with 401 use_dpop_nonce and a DPoP-Nonce header; every served /mcp response carries the current nonce. Bounds a captured proof to about two windows on any replica that shares nonce_key.'),
    nonce_lifetime: duration
      .refine((ms) => ms >= 5000 && ms <= 600_000, 'dpop.nonce_lifetime must be between 5s and 10m')
      .prefault('60s')
      .describe('How long one nonce window lasts (5s to 10m); a nonce is taken in its window and the next.'),
    nonce_key: secretRef
      .optional()
      .describe('The key nonces are computed with (HMAC-SHA256; at least 32 characters), as a secret reference. Replicas behind one URL need the same key to take each other\'s nonces. Default: a random key per Warden process.'),
  })
  .strict()
  .refine((d) => d.nonce || d.nonce_key === undefined, { message: 'dpop.nonce_key is set but dpop.nonce is not true: set nonce: true, or remove nonce_key', path: ['nonce_key'] });

/** `identity:` how principals are known: the stdio subject, or OIDC bearer tokens over HTTP. */
export const identitySchema = z
  .object({
    stdio: z
      .object({
        // A default, so that `stdio: { agent_user: refuse }` alone is valid (the principal stays local-agent, as with no stdio: block).
        subject: z.string().min(1).default('local-agent'),
        groups: z.array(z.string()).default([]),
        agent_user: z
          .enum(['warn', 'refuse'])
          .default('warn')
          .describe(
            "What `serve` over stdio does when the agent's OS user (the user of the process that started Warden: the MCP client, or the sudo it ran) is Warden's own, or can read by mode bits the config file, a file: secret or the transcript store, or write the store's folder, or read the masking key. warn (default): one WARDEN_AGENT_HOLDS_KEYS warning naming the paths, and Warden serves. refuse: Warden exits non-zero with WARDEN_AGENT_HOLDS_KEYS. Linux only (/proc); elsewhere, or where the parent process is not visible (Warden is the first process of a container), the check does not run (debug log).",
          ),
      })
      .strict()
      .optional(),
    oidc: z
      .object({
        issuer: z.string().url(),
        audience: z.string().min(1),
        groups_claim: z.string().default('groups'),
        groups_string: z
          .enum(['refuse', 'whole', 'split'])
          .default('refuse')
          .describe(
            'How a groups claim sent as one string holding whitespace, commas or semicolons ("staff contractors") is read. refuse (default): the token is refused, since it may be one group name or several and a deny on either must not miss. whole: one group name (an IdP whose group names hold spaces). split: each word is a group. A list is never split; an object map of groups is always refused.',
          ),
        jwks_uri: z.string().url().optional(),
        algorithms: z.array(z.string()).optional(),
        /** Scopes every HTTP token must carry (403 insufficient_scope otherwise). */
        required_scopes: z.array(z.string().min(1)).default([]),
        // prefault: a duration default is written as in warden.yaml and parsed like one (the published schema and reference show it so).
        clock_tolerance: duration.prefault('30s').describe('Leeway for a token\'s exp and nbf, and for an iat in the future (at most 5m).'),
        jwks_cooldown: duration
          .refine((ms) => ms >= MIN_JWKS_COOLDOWN_MS, `jwks_cooldown must be at least ${MIN_JWKS_COOLDOWN_MS / 1000}s: below that, every token with an unknown key id refetches the issuer's keys`)
          .prefault('30s')
          .describe(`Least time between two fetches of the issuer's keys (JWKS) caused by tokens with an unknown key id; at least ${MIN_JWKS_COOLDOWN_MS / 1000}s.`),
        jwks_max_age: duration.prefault('10m').describe('How long the fetched keys (JWKS) are used before they are fetched again.'),
        loopback_key_uids: z
          .array(z.number().int().min(0))
          .default([])
          .describe(
            "Users (uids) besides Warden's own and root whose server on this machine may serve the issuer's discovery document and keys over plain http (an issuer or jwks_uri on localhost, 127.0.0.1 or ::1), e.g. an IdP sidecar running as its own uid in the same pod. Any other local user's server is refused: any user can listen on a free loopback port and would serve its own keys. Linux only (read from /proc/net/tcp); elsewhere plain http keys are refused, serve them over https.",
          ),
        /** RFC 9068 typ check; off by default because some IdPs type access tokens `JWT` too. */
        require_access_token_type: z
          .boolean()
          .default(false)
          .describe('Refuse tokens whose header typ is present and is not at+jwt (RFC 9068), e.g. an ID token (typ JWT) sent as a bearer token. Off by default: some IdPs (Keycloak, Entra ID) type access tokens JWT too.'),
        max_token_age: duration
          .refine((ms) => ms >= 1000, 'max_token_age must be at least 1s')
          .optional()
          .describe('Refuse tokens issued (iat) longer ago than this (e.g. 1h), even when exp is later; a token without iat is then refused. Sessions and SSE streams end when their token reaches this age. Default: no maximum age beyond exp.'),
        dpop: dpopSchema
          .optional()
          .describe('DPoP (RFC 9449) sender-constrained tokens on /mcp: a token bound to a key (cnf.jkt) is taken with Authorization: DPoP and a fresh DPoP proof signed by that key on every request. Absent (default): a token with a cnf claim is refused, as Warden checks no proof.'),
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
    local_login: z
      .enum(['allow', 'refuse'])
      .optional()
      .describe(
        "Whether `serve --http` prints a one-time UI login link on localhost. The link signs in as ui.local_reviewer, an identity Warden cannot check (whoever reads the startup log on this machine uses it), like `approvals --as`. allow: print it. refuse: print none; /ui/login?token= answers 403 with WARDEN_UNAUTHENTICATED, and reviewers sign in with a token. Unset: follows approvals.cli_as (refuse there refuses the link too), so one setting turns off every unchecked reviewer identity.",
      ),
    session_max_lifetime: duration
      .refine((ms) => ms >= 1000 && ms <= 7 * 24 * 3_600_000, 'session_max_lifetime must be between 1s and 168h')
      .prefault('8h')
      .describe('How long a reviewer UI session lasts from its sign-in, however busy (it ends sooner when the token it was signed in with expires, or at logout); then the reviewer signs in again. Default 8h.'),
  })
  .strict();

/** Defaults of the `http:` caps, as written in warden.yaml; why here: the default of `http:` as a whole repeats them. */
export const DEFAULT_HTTP_LIMITS = { max_requests_per_principal: 32, max_streams_per_principal: 4, max_requests: 512, max_streams: 256, max_stream_buffer: 8 * 1024 * 1024, request_timeout: '120s', max_connections: 1024, session_max_lifetime: '12h' } as const;

/** `http:` HTTP guards for MCP and the reviewer UI (DNS rebinding, cross-origin requests, body size, per-principal caps). */
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
    max_body_bytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024).describe('The largest MCP message in bytes: a request body over HTTP (413 above it), and one stdin line over stdio (answered -32600 WARDEN_INVALID_INPUT and discarded). Default 1 MiB.'),
    max_requests_per_principal: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .default(DEFAULT_HTTP_LIMITS.max_requests_per_principal)
      .describe(
        'Requests one identity (issuer and subject) may have in flight on /mcp at once, from authentication until the response ends (a slow body, an SSE answer of a POST, tools/list and pings included; GET streams count below). One more is answered 429 WARDEN_RATE_LIMITED with Retry-After.',
      ),
    max_streams_per_principal: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .default(DEFAULT_HTTP_LIMITS.max_streams_per_principal)
      .describe('Standalone GET (SSE) streams on /mcp one identity (issuer and subject) may hold open at once, across its sessions. One more is answered 429 WARDEN_RATE_LIMITED with Retry-After.'),
    max_requests: z
      .number()
      .int()
      .positive()
      .max(100_000)
      .default(DEFAULT_HTTP_LIMITS.max_requests)
      .describe('Requests all identities together may have in flight on /mcp at once, counted as max_requests_per_principal is (at least that). One more is answered 503 WARDEN_UNAVAILABLE with Retry-After.'),
    max_streams: z
      .number()
      .int()
      .positive()
      .max(100_000)
      .default(DEFAULT_HTTP_LIMITS.max_streams)
      .describe('Standalone GET (SSE) streams all identities together may hold open on /mcp at once (at least max_streams_per_principal). One more is answered 503 WARDEN_UNAVAILABLE with Retry-After.'),
    max_stream_buffer: z
      .number()
      .int()
      .min(64 * 1024)
      .max(1024 * 1024 * 1024)
      .default(DEFAULT_HTTP_LIMITS.max_stream_buffer)
      .describe(
        'Bytes Warden may hold unsent for one /mcp response (a GET stream, a POST answered as SSE) whose client reads slower than Warden writes; past it the connection is closed and logged, and its slot freed. The server raises it to eight times the largest answer a tool may give (limits.max_result_bytes, a connection\'s max_bytes or max_output_bytes), so that one whole answer is never cut off. At least 64 KiB. A backlog not taken within request_timeout is closed too.',
      ),
    max_connections: z
      .number()
      .int()
      .min(16)
      .max(1_000_000)
      .default(DEFAULT_HTTP_LIMITS.max_connections)
      .describe(
        'Connections the HTTP listener (MCP and the reviewer UI) holds open at once, whoever holds them: idle keep-alive connections and ones still sending their headers count. One more is answered 503 WARDEN_UNAVAILABLE with Retry-After and closed at once. Keep it under the process\'s open-file limit (ulimit -n), leaving room for backend connections and the transcript store.',
      ),
    request_timeout: duration
      .refine((ms) => ms >= 1000 && ms <= 3_600_000, 'request_timeout must be between 1s and 1h')
      .prefault(DEFAULT_HTTP_LIMITS.request_timeout)
      .describe('How long a client may take to send a whole request (headers and body); then the connection is closed (408) and its slot freed. Headers must arrive within 10s (or this, if shorter).'),
    session_max_lifetime: duration
      .refine((ms) => ms >= 1000 && ms <= 7 * 24 * 3_600_000, 'session_max_lifetime must be between 1s and 168h')
      .prefault(DEFAULT_HTTP_LIMITS.session_max_lifetime)
      .describe(
        'How long a stateful MCP session (2025-11-25) lasts from its initialize, however busy: then a request naming it is answered 404 with WARDEN_SESSION_EXPIRED and the client initializes again. A call in flight at that moment still gets its answer; its GET stream ends then. Sessions idle for 30 minutes end sooner. Every request is authenticated anew either way: this bounds what one session holds, not who may use it.',
      ),
  })
  .strict()
  .superRefine((h, ctx) => {
    // One identity may not hold more than the whole server: reported at both keys (either may be the one to change).
    for (const [mine, all] of [['max_requests_per_principal', 'max_requests'], ['max_streams_per_principal', 'max_streams']] as const) {
      if (h[mine] <= h[all]) continue;
      const message = `http.${mine} (${h[mine]}) is more than http.${all} (${h[all]}): one identity may not hold more than the whole server`;
      for (const key of [mine, all]) ctx.addIssue({ code: 'custom', path: [key], message });
    }
  });

/** Limits shared by `rate_limits:` (per principal) and a rule's `limits:` (per principal and rule). */
export const callLimitsSchema = z
  .object({
    calls_per_minute: z.number().int().positive().optional(),
    concurrent: z.number().int().positive().optional(),
    rows_per_hour: z.number().int().positive().optional(),
    bytes_per_hour: z.number().int().positive().optional(),
  })
  .strict();
