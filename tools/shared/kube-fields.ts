/**
 * Kubernetes API fields that hold a secret word in their name but no secret in their value, read
 * by name AND value shape, so a real secret beside the same word stays masked (secret-names.ts
 * asks here before it masks). Why: `kubectl get pod -o yaml` printed through kubectl_exec or
 * ssh_run showed `automountServiceAccountToken: ***`, `sessionAffinity: ***`, `topologyKey: ***`
 * and a selector's `- key: ***`, hiding what an operator reads to debug scheduling and routing.
 * Fail closed: a field is known by its exact API name (case and all), and its value must be the
 * shape the API allows (a boolean, one of the enum's words, a label key); anything else beside it
 * is masked as before (`automountServiceAccountToken: hunter2`).
 */

const BOOLEAN = /^(?:true|false)$/;
/** A label or annotation key: an optional DNS prefix and `/`, then a name (`kubernetes.io/hostname`). */
const LABEL_KEY = /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Field name -> the values it may show. */
const SETTINGS: ReadonlyMap<string, RegExp> = new Map([
  ['automountServiceAccountToken', BOOLEAN], // Pod spec, ServiceAccount
  ['sessionAffinity', /^(?:None|ClientIP)$/], // Service spec
  ['topologyKey', LABEL_KEY], // pod (anti-)affinity and topologySpreadConstraints
]);

/**
 * Fields whose object or array value is shown member by member instead of masked whole, when it
 * holds only the members its schema has, none a secret: a projected `serviceAccountToken`
 * `{audience, expirationSeconds, path}`, `sessionAffinityConfig` `{clientIP: {timeoutSeconds}}`,
 * a CSIDriver's `tokenRequests` `[{audience, expirationSeconds}]`, `imagePullSecrets` `[{name}]`.
 * Any other member (`serviceAccountToken: {value: ...}`), or a value not closed within
 * STRUCT_MAX characters, masks it whole as before.
 */
const STRUCTS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['serviceAccountToken', new Set(['audience', 'expirationSeconds', 'path'])],
  ['sessionAffinityConfig', new Set(['clientIP', 'timeoutSeconds'])],
  ['tokenRequests', new Set(['audience', 'expirationSeconds'])],
  ['imagePullSecrets', new Set(['name'])],
]);
/** The longest struct value read (a bound: each costs a constant, however long the text). */
export const STRUCT_MAX = 400;
/** A member name in JSON or flow text: a name before a `:` (one inside a quoted value counts too: fail closed). */
const MEMBER = /([A-Za-z_][\w.-]*)["']?[ \t]*:/g;

/** The value as a text form delimits it, without a trailing `,`/`;` and its quotes; null when too long to be a setting. */
function bare(value: string): string | null {
  // Bounded first: an end-anchored trim over a long value would be quadratic.
  if (value.length > 320) return null;
  return value.replace(/[,;]?[ \t]*$/, '').replace(/^(["'])(.*)\1$/, '$2');
}

/** Is `value` beside the API field `name` a setting to show (`automountServiceAccountToken: false`)? */
export function kubeSetting(name: string, value: unknown): boolean {
  const shape = SETTINGS.get(name);
  if (!shape) return false;
  if (typeof value === 'boolean') return shape === BOOLEAN;
  const v = typeof value === 'string' ? bare(value) : null;
  return v !== null && shape.test(v);
}

/** Is `span` (an object or array value, closed) beside the field `name` one to read member by member (not masked whole)? */
export function kubeStruct(name: string, span: string): boolean {
  const members = STRUCTS.get(name);
  if (!members || span.length > STRUCT_MAX || !/[}\]]$/.test(span)) return false;
  for (const m of span.matchAll(MEMBER)) if (!members.has(m[1]!)) return false;
  return true;
}

/** The next member of the same JSON or flow item (`, "operator":`, `, path:`), after the value. */
const NEXT_FLOW = /^\s*,\s*["']?(operator|path)["']?[ \t]*:/;
/** The next line of the same YAML block item (`operator:` at the key's column; a pretty JSON `"path":`). */
const NEXT_LINE = /^[^\n]*\n( *)["']?(operator|path)["']?[ \t]*:/;
/** A `key` at the start of a block line, behind an item's dash or a quote (the look-back starts with a line break). */
const LINE_KEY = /\n( *(?:-[ \t]+)?)["']?$/;

/**
 * Is the `key` whose name starts at `at` (its value ending at `end`) the key NAME of a selector
 * requirement or toleration (`matchExpressions: [{key: app, operator: In, ...}]`, `tolerations:
 * - key: node-role.kubernetes.io/control-plane` / `operator: Exists`) or of a volume's item
 * (`items: - key: app.conf` / `path: app.conf`)? Read from the item's structure: the member
 * right after `key` in the same item is `operator` (only these two API types pair them), or
 * `path` with `items` in the 200 characters before (KeyToPath); and the value is a label or
 * data key's shape. Bounded look-around (200 characters each way), so each `key` costs a
 * constant. Fail closed: a `key` whose next member is anything else (a toleration printed as
 * `key`, `value` with no operator, a member between), or farther than that from its `items`,
 * stays masked, as does `key: hunter2` on its own or beside a `path` outside an items list.
 */
export function structKey(text: string, name: string, at: number, end: number, value: string): boolean {
  if (name !== 'key') return false;
  const v = bare(value);
  if (v === null || !LABEL_KEY.test(v)) return false;
  const ahead = text.slice(end, end + 200);
  // A look-back from the text's start begins a line; one cut mid-line does not.
  const back = (at <= 200 ? '\n' : '') + text.slice(Math.max(0, at - 200), at);
  let next = NEXT_FLOW.exec(ahead)?.[1];
  const line = LINE_KEY.exec(back);
  if (next === undefined && line) {
    const m = NEXT_LINE.exec(ahead);
    // The same item: the next line's key at the column of this `key` (after its dash).
    if (m && m[1]!.length === line[1]!.length) next = m[2];
  }
  if (next === 'operator') return true;
  return next === 'path' && /["']?items["']?[ \t]*:/.test(back);
}
