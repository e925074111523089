/**
 * Kubernetes API fields that hold a secret word in their name but no secret in their value, read
 * by name AND value shape, so a real secret beside the same word stays masked (secret-names.ts
 * asks here before it masks). Why: `kubectl get pod -o yaml` printed through kubectl_exec or
 * ssh_run showed `automountServiceAccountToken: ***`, `sessionAffinity: ***`, `topologyKey: ***`
 * and a selector's `- key: ***`, hiding what an operator reads to debug scheduling and routing;
 * kubectl_get masked ingress-nginx's `auth-secret: basic-auth` and `auth-type: basic`.
 * Fail closed: a field is known by its exact API name (case and all), and its value must be the
 * shape the API allows (a boolean, one of the enum's words, a label key); anything else beside it
 * is masked as before (`automountServiceAccountToken: hunter2`).
 */

const BOOLEAN = /^(?:true|false)$/;
/** A label or annotation key: an optional DNS prefix and `/`, then a name (`kubernetes.io/hostname`). */
const LABEL_KEY = /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** A Secret's or ConfigMap's name, with its namespace or not (`basic-auth`, `default/ca-secret`). */
const OBJECT_REF = /^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\/)?[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;
/** An http(s) URL with no `@` anywhere: `https://user:pw@host` is a credential (a query's `?token=` is masked as an assignment). */
const URL = /^https?:\/\/[^\s@]+$/;
const NUMBER = /^\d{1,9}$/;
/**
 * ingress-nginx's auth annotations (full key, its one prefix: a custom `--annotations-prefix` is
 * not known, fail closed) and the values each may show: they name a Secret or a ConfigMap, or
 * describe the auth (a type, a realm, an endpoint). Not here, so masked as before: `auth-snippet`
 * (nginx configuration, may set an `Authorization` header), `auth-cache-key` (may hold any text),
 * and every other key with a secret word.
 */
const INGRESS_NGINX: [string, RegExp][] = [
  ['auth-type', /^(?:basic|digest)$/],
  ['auth-secret', OBJECT_REF],
  ['auth-secret-type', /^(?:auth-file|auth-map)$/],
  // Text shown in the browser's login prompt: printable, no `:` or `@` (no `user:pw`).
  ['auth-realm', /^[^\s:@"'][^:@"'\x00-\x1f]{0,127}$/],
  ['auth-url', URL],
  ['auth-signin', URL],
  ['auth-request-redirect', URL],
  ['auth-tls-error-page', URL],
  ['auth-signin-redirect-param', /^[A-Za-z0-9_-]{1,64}$/],
  ['auth-method', /^(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/],
  ['auth-response-headers', /^[A-Za-z0-9-]{1,64}(?:[ \t]*,[ \t]*[A-Za-z0-9-]{1,64}){0,31}$/],
  ['auth-proxy-set-headers', OBJECT_REF],
  ['auth-tls-secret', OBJECT_REF],
  ['auth-tls-verify-client', /^(?:on|off|optional|optional_no_ca)$/],
  ['auth-tls-verify-depth', NUMBER],
  ['auth-tls-pass-certificate-to-upstream', BOOLEAN],
  ['auth-always-set-cookie', BOOLEAN],
  ['auth-keepalive', NUMBER],
  ['auth-keepalive-requests', NUMBER],
  ['auth-keepalive-timeout', NUMBER],
  ['auth-keepalive-share-vars', BOOLEAN],
  ['enable-global-auth', BOOLEAN],
  ['proxy-ssl-secret', OBJECT_REF],
];

/** Field name (an annotation's full key) -> the values it may show. */
const SETTINGS: ReadonlyMap<string, RegExp> = new Map([
  ['automountServiceAccountToken', BOOLEAN], // Pod spec, ServiceAccount
  ['sessionAffinity', /^(?:None|ClientIP)$/], // Service spec
  ['topologyKey', LABEL_KEY], // pod (anti-)affinity and topologySpreadConstraints
  ...INGRESS_NGINX.map(([k, v]): [string, RegExp] => [`nginx.ingress.kubernetes.io/${k}`, v]),
]);

/**
 * Fields whose object or array value is shown member by member instead of masked whole, when it
 * holds only the members its schema has, none a secret: a projected `serviceAccountToken`
 * `{audience, expirationSeconds, path}`, `sessionAffinityConfig` `{clientIP: {timeoutSeconds}}`,
 * a CSIDriver's `tokenRequests` `[{audience, expirationSeconds}]`, `imagePullSecrets` `[{name}]`,
 * a ServiceAccount's `secrets` `[{name, namespace, ...}]` (ObjectReference). secret-blocks.ts reads
 * the same structures in block YAML and pretty-printed JSON by these member names.
 * Any other member (`serviceAccountToken: {value: ...}`), or a value not closed within
 * STRUCT_MAX characters, masks it whole as before.
 */
const STRUCTS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['serviceAccountToken', new Set(['audience', 'expirationSeconds', 'path'])],
  ['sessionAffinityConfig', new Set(['clientIP', 'timeoutSeconds'])],
  ['tokenRequests', new Set(['audience', 'expirationSeconds'])],
  ['imagePullSecrets', new Set(['name'])],
  // A pod volume's Secret source (`secretName`) or a projected volume's (`name`), with its items.
  ['secret', new Set(['secretName', 'name', 'defaultMode', 'optional', 'items', 'key', 'path', 'mode'])],
  // A ServiceAccount's Secrets: object references (`- name: builder-token-x2k9`), not their values.
  ['secrets', new Set(['name', 'namespace', 'kind', 'apiVersion', 'uid', 'resourceVersion', 'fieldPath'])],
]);

/**
 * Members shown by name inside a secret-named block (secret-blocks.ts), beside the STRUCTS
 * above: a reference's (`passwordSecretRef: {name, key}`, any `*Ref`/`*Name` block), a volume's
 * `items` (KeyToPath), a `tolerations`/`taints` item. Another member of these is masked.
 */
const REF_MEMBERS: ReadonlySet<string> = new Set(['name', 'key', 'namespace', 'optional', 'kind', 'apiVersion']);
const NESTED: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['items', new Set(['key', 'path', 'mode'])],
  ['tolerations', new Set(['key', 'operator', 'value', 'effect', 'tolerationSeconds'])],
  ['taints', new Set(['key', 'value', 'effect', 'timeAdded'])],
]);

/** The members a block under `name` shows by name (its schema), or undefined; `reference` for a `*Ref`/`*Name` key. */
export function blockMembers(name: string, nested: boolean, reference: boolean): ReadonlySet<string> | undefined {
  return STRUCTS.get(name) ?? (!nested ? undefined : reference ? REF_MEMBERS : NESTED.get(name));
}

/** Members of any block that are settings by value shape: a file mode, an `optional` flag. */
const MEMBER_SETTINGS: ReadonlyMap<string, RegExp> = new Map([
  ['defaultMode', /^0?\d{1,4}$/],
  ['mode', /^0?\d{1,4}$/],
  ['optional', BOOLEAN],
]);

/**
 * Is the member `name: value` of a secret-named block one to show? A setting of the right shape
 * (above, or kubeSetting), or a reference name (`secretName`, `userName`, decided by the
 * caller) whose value has an object name's or label key's shape.
 */
export function blockMemberShown(name: string, value: string, reference: boolean): boolean {
  const v = bare(value);
  if (v === null) return false;
  if (reference) return LABEL_KEY.test(v);
  const shape = MEMBER_SETTINGS.get(name);
  return (shape !== undefined && shape.test(v)) || kubeSetting(name, value);
}
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
 * `path` with `items` in the 200 characters before (KeyToPath), or the `key` is a member of a
 * `tolerations`/`taints` list's item (tolerationItem: a toleration without `operator`); and the
 * value is a label or data key's shape. Bounded look-around (200 characters ahead, 200 or
 * LIST_BACK back), so each `key` costs a constant. Fail closed: a `key` whose next member is
 * anything else (`key`, `value` outside a toleration list, a member between), or farther than
 * that from its `items` or list, stays masked, as does `key: hunter2` on its own or beside a
 * `path` outside an items list.
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
  if (next === 'operator' || tolerationItem(text, at)) return true;
  return next === 'path' && /["']?items["']?[ \t]*:/.test(back);
}

/** How far back a `key` looks for the `tolerations:`/`taints:` list it is an item of. */
const LIST_BACK = 400;
/** A list of tolerations or taints opened in JSON or flow (`"tolerations": [`, `taints: [`). */
const LIST_FLOW = /(?<![\w.-])["']?(?:tolerations|taints)["']?[ \t]*:\s*\[/g;
/** A list of tolerations or taints opened in block YAML (`  tolerations:` ending its line). */
const LIST_LINE = /^( *)(?:tolerations|taints):[ \t]*$/;
/** A block item's member line: its dash or not, then a (quoted) name and `:`. */
const MEMBER_LINE = /^ *(?:-[ \t]+)?["']?[A-Za-z_][\w.-]*["']?[ \t]*:/;

/**
 * Is the name starting at `at` a member of a toleration or taint item, right inside the list
 * (`tolerations: [{key: x, effect: NoSchedule}]`, `- effect: NoSchedule` / `key: x`)? Why: a
 * toleration's `key` and `value` are a node taint's, not secrets, with or without `operator`
 * (kubectl prints `effect`, `key`, `value` when the operator is the default). Read within
 * LIST_BACK characters (a constant per `key`): in JSON or flow, the last list opened there still
 * open and the name at the first object level inside it; in block YAML, the last list line
 * followed only by its items' dash lines and member lines (a toleration has no nested member).
 * Anything else (the list closed, a nested object, another list, a list farther back) is not
 * one, fail closed.
 */
function tolerationItem(text: string, at: number): boolean {
  const start = Math.max(0, at - LIST_BACK);
  // The name's own opening quote is not a string to skip.
  const back = text.slice(start, at).replace(/["']$/, '');
  if (!back.includes('tolerations') && !back.includes('taints')) return false;
  let flow: RegExpExecArray | null = null;
  LIST_FLOW.lastIndex = 0;
  for (let m = LIST_FLOW.exec(back); m; m = LIST_FLOW.exec(back)) if (m.index > 0 || start === 0) flow = m;
  if (flow) {
    const opened: string[] = [];
    let quote = '';
    for (let i = flow.index + flow[0].length - 1; i < back.length; i++) {
      const c = back[i]!;
      if (c === '\n') quote = '';
      else if (quote) {
        if (c === '\\' && quote === '"') i++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '{' || c === '[') opened.push(c);
      else if ((c === '}' || c === ']') && (opened.pop(), opened.length === 0)) break;
    }
    if (opened.length === 2 && opened[1] === '{' && !quote) return true;
  }
  // Block YAML: whole lines only (a window cut mid-line starts at its next line).
  const lines = (start > 0 && text[start - 1] !== '\n' ? back.slice(back.indexOf('\n') + 1) : back).split('\n');
  let list = -1;
  for (let i = 0; i < lines.length - 1; i++) if (LIST_LINE.test(lines[i]!)) list = i;
  const first = list === -1 ? null : /^( *)(-[ \t]+)/.exec(lines[list + 1]!);
  // The items' dashes at the list's column or right of it (kubectl prints them at its column).
  if (!first || first[1]!.length < LIST_LINE.exec(lines[list]!)![1]!.length) return false;
  const item = first[1]! + first[2]!;
  const member = ' '.repeat(item.length);
  // Each line between is an item's first line (`- effect: X`) or a member line at the item's column.
  for (let i = list + 1; i < lines.length - 1; i++) {
    const l = lines[i]!;
    const at = l.startsWith(item) || (l.startsWith(member) && l[member.length] !== ' ');
    if (l.trim() !== '' && !(at && MEMBER_LINE.test(l))) return false;
  }
  const last = lines[lines.length - 1]!;
  return last === item || last === member;
}
