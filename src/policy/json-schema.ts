/**
 * JSON Schema for warden.yaml, policy files and policy test files, generated from the same zod
 * schemas that validate them at load (so editors and the server never disagree), plus the
 * generated part of docs/policy-reference.md. scripts/gen-schema.mjs writes the files after
 * tsc; a test fails when the committed files are stale.
 */
import { z } from 'zod';
import type { ToolFamily } from '../tool-api.js';
import { serverConfigSchema } from '../config/server-config.js';
import { policyFileSchema } from './schema.js';
import { testFileSchema } from './test-cases.js';

export { GENERATED_END, GENERATED_START, renderReference, spliceReference } from './json-schema-reference.js';

/** Published schema files (policies/schema/NAME) and their JSON. */
export type SchemaSet = Record<'warden.schema.json' | 'policy.schema.json' | 'policy-test.schema.json', Record<string, unknown>>;

const DESCRIPTIONS: Record<string, string> = {
  transcripts: 'Where transcripts are stored (sqlite:PATH, relative to this file).',
  identity: 'How principals are established: stdio identity and OIDC for tokens.',
  policies: 'Policy files to load; a * in the file name matches many files.',
  admins: 'Principals who may use admin-only tools (explain_call). Omitted: nobody.',
  'admins.subjects': 'Subjects that are admins.',
  'admins.groups': 'Members of any of these groups are admins.',
  masking: 'Column masks (by lineage) and content detectors applied to every result.',
  'masking.columns': 'Columns masked wherever they flow: [schema.]table.column and a strategy.',
  'masking.columns[].with': 'Masking strategy: redact, partial, hash, ...',
  'masking.detectors': 'Content detectors scanned in every result (email, credit_card, jwt, ...; every name under "Content detectors" above).',
  'masking.on_derived': 'A masked column used inside an expression: deny the call (default) or mask the whole output column.',
  rules: 'Rules. A call is allowed only when an allow rule matches and no deny rule does (deny wins; nothing matches = deny).',
  'rules[].id': 'Stable rule id; every decision names the rule ids behind it.',
  'rules[].effect': 'allow or deny. Deny wins.',
  'rules[].who': 'Who the rule applies to: subjects and/or groups (either matches), narrowed by claims and actors. On a deny, subjects also match any actor of the token\'s RFC 8693 act chain. Omitted: anyone.',
  'rules[].who.actors': 'Agents acting for the principal (the subjects of the token\'s RFC 8693 act chain). Allow: only delegated calls whose every actor is listed (exactly, named by the token\'s own issuer) match. Deny: matches when any actor of the chain is listed (folded).',
  'rules[].who.claims': 'Token claims that must all equal one of the given values (e.g. repository: org/repo from a CI OIDC token).',
  'rules[].tool': 'A tool name or a list. Omitted: any tool.',
  'rules[].on': 'Connection names. Omitted: any connection.',
  'rules[].reason': 'Told to the agent when this deny rule denies a call.',
  'rules[].approval': 'Obligation on an allow: a human approves the exact call before it runs. When several matching allow rules carry one, the call needs every one of them (each its own request).',
  'rules[].approval.reviewers': 'Who may approve (never the requester).',
  'rules[].approval.approvals': 'Distinct reviewers needed.',
  'rules[].approval.expires': 'How long an approval stays usable (30s, 30m, 1h). Combined with other matching approvals: the shortest applies to every request.',
  'rules[].approval.wait': 'How long the tool call waits before answering "pending". Combined with other matching approvals: the call waits the shortest.',
  'rules[].approval.deny_cooldown': 'After a reviewer denies a call, how long the same requester asking the same call again (exactly, or reworded: the same SQL up to whitespace, comments and keyword case, the same command line up to quoting and spacing) is refused (WARDEN_APPROVAL_DENIED, saying when it may be asked) instead of opening a new request (default 5m; 0s turns it off). Combined with other matching approvals: the longest applies.',
  'rules[].sql': 'SQL condition (query_database). Allow: statements, tables and functions the call must stay within. Deny: matches when the call touches any of them.',
  'rules[].shell': 'Shell condition (ssh_run, kubectl_exec). Allow: programs and their subcommands, flags and paths. Deny: matches when a listed program is used as restricted.',
  'rules[].sql.statements': 'Statement kinds (select, insert, update, ...). Allow default: [select].',
  'rules[].sql.read': 'Tables that may be read (schema-qualified; unqualified means public).',
  'rules[].sql.write': 'Tables that may be written (also readable).',
  'rules[].sql.write_columns': 'Columns ([schema.]table.column). Allow: every column a statement writes must be listed (a whole-row write: DELETE, INSERT without a column list, TRUNCATE, DDL never fits); the tables are writable and readable, and with write: a table must be in both. Deny: matches a listed column written, or its table written whole.',
  'rules[].sql.functions': 'Functions a query may call; @safe-read is a vetted read-only set.',
  'rules[].shell.pipelines': 'Allow | between allowed commands.',
  'rules[].shell.programs': 'Bare program names, each with optional paths (absolute folder prefixes such as /var/log, not patterns: an entry holding *, ?, [ or { is refused), subcommands, deny_flags, allow_flags, and (an allow\'s jq, yq, gojq, jaq, awk, gawk, mawk, nawk, ps, systemctl, docker, podman, nerdctl, crictl and pm2 only) environment: true, which lets its program read the remote environment (env, $ENV, strenv(), awk\'s ENVIRON), ps show every listed process\'s environment (ps e, auxe), or the service readers print a service\'s environment (systemctl show without -p or with an Environment property, systemctl cat, show-environment; docker/podman inspect unless --format names plain fields outside Config, Spec and Env; compose config; crictl inspect; pm2 env, show, jlist); and (an allow\'s grant of a program that rewrites the text it reads: cut, join, tr, rev, fold, fmt, paste, column, pr, base64, base32, basenc, uuencode, xxd, od, hexdump, hd, iconv, recode, sd, choose, mlr, xsv, qsv, csvcut, dasel, gron, g-prefixed coreutils such as gcut, dd, openssl, sed, awk and the jq family) rewrites: true, which lets it show what it makes of a file (cut -d= -f2 .env prints a value without the name output masking reads); without it such a command is refused, but a sed script or awk program that only selects whole lines, a jq filter of ., dd without skip=/conv= and openssl x509.',
  'rules[].kubernetes.namespaces': 'Namespaces the call must stay in.',
  'rules[].kubernetes.pod_labels': 'Labels the pod must carry (read from the API server, not from the agent). A Deployment is judged by the labels of its pod template, and an event about a pod or a workload (ReplicaSet, Job, ...) by the labels of those pods, one about a Service or PodDisruptionBudget by its selector: shown only for the pods it allows. Events about other kinds are withheld under pod_labels, but those about a Node\'s own state (NodeReady, ...).',
  'rules[].kubernetes.reveal_secret_keys': 'Secret data keys kubectl_get may show in clear when the agent asks (reveal_keys). Never the credential of a credential Secret type (service-account token, registry login, basic-auth password, SSH or TLS private key, bootstrap token, Helm release): those stay masked.',
  'rules[].kubernetes': 'Kubernetes condition: namespaces, pod labels and containers.',
  cases: 'Policy test cases: a principal, a call, and the decision it must get.',
  'cases[].principal.actors': 'Agents acting for the subject (an RFC 8693 act chain), current actor first; or give claims.act itself, not both.',
  'cases[].expect.rules': 'Rule ids the decision must name (exactly).',
  'cases[].expect.masked': 'Output columns that must be masked (a list, or a map column: strategy).',
  'cases[].expect.error': 'Expected error code when the call is refused before the policy (e.g. WARDEN_PARSE); required for a deny of an unknown tool, invalid arguments or a connection the config does not have, which no rule judged.',
};

function annotate(node: unknown, path: string): void {
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  if (path && DESCRIPTIONS[path] && !n.description) n.description = DESCRIPTIONS[path];
  for (const branch of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(n[branch])) for (const b of n[branch] as unknown[]) annotate(b, path);
  if (n.properties && typeof n.properties === 'object') {
    for (const [k, v] of Object.entries(n.properties as Record<string, unknown>)) annotate(v, path ? `${path}.${k}` : k);
  }
  if (n.items) annotate(n.items, `${path}[]`);
  if (n.additionalProperties && typeof n.additionalProperties === 'object') annotate(n.additionalProperties, `${path}{}`);
}

function toJson(schema: z.ZodType, title: string): Record<string, unknown> {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  annotate(js, '');
  return { $schema: js.$schema, title, ...Object.fromEntries(Object.entries(js).filter(([k]) => k !== '$schema')) };
}

/**
 * warden.yaml with each connection checked by its family's schema, discriminated by `type` (a
 * oneOf whose branches each pin `type` to a const: editors complete and check the keys of the
 * type written).
 */
function wardenSchema(families: ToolFamily[]): z.ZodType {
  const conns = families.map((f) => {
    const type = z.literal(f.connectionType).describe(`Connection type: ${f.connectionType}`);
    if (!(f.connectionSchema instanceof z.ZodObject)) return z.object({ type }).passthrough();
    // safeExtend keeps refinements (e.g. "exactly one of private_key or password"), which extend refuses.
    return f.connectionSchema.safeExtend({ type });
  });
  const conn = conns.length === 1 ? conns[0]! : z.discriminatedUnion('type', conns as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]);
  const types = families.map((f) => f.connectionType).join(', ');
  return serverConfigSchema.extend({
    $schema: z.string().optional(),
    connections: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/), conn)
      .optional()
      .describe(`Named connections, each with a type (${types}) and that type's keys (listed per type in docs/policy-reference.md). Credentials are references (env:NAME or file:/path), never inline secrets.`),
  });
}

/** Generate every published schema for the shipped families. */
export function generateSchemas(families: ToolFamily[]): SchemaSet {
  const conditions = families.flatMap((f) => f.conditions).filter((c, i, all) => all.findIndex((x) => x.key === c.key) === i);
  return {
    'warden.schema.json': toJson(wardenSchema(families), 'Warden server configuration (warden.yaml)'),
    'policy.schema.json': toJson(policyFileSchema(conditions), 'Warden policy file'),
    'policy-test.schema.json': toJson(testFileSchema, 'Warden policy test cases'),
  };
}
