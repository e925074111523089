/**
 * Secrets in XML: a Maven `settings.xml` (`<password>...</password>`), a Spring or Hibernate
 * property (`<property name="hibernate.connection.password">...</property>`), a .NET
 * `app.config` (`<add key="DbPassword" value="..."/>`), an Ant or PHPUnit `<env name="DB_PASSWORD"
 * value="..."/>`. Masking by name reads `name=value`, `name: value` and JSON members; in XML the
 * name is an element's (its text is the value) or an attribute's (`name`/`key`, the value in
 * `value`), and both were shown (the pair's name was even masked, `key=***`, and its value
 * shown). Here: the text of an element whose local name is secret-named (`<api:token>` too, a
 * CDATA section's content too), or whose `name`/`key` attribute is, and the `value` attribute
 * beside a secret-named `name`/`key` attribute, are masked, judged by the one name rule
 * (secret-names.ts: `<maxTokens>4096</maxTokens>` is a count and stays). Attributes named like
 * secrets (`password="x"`) are assignments secret-text.ts masks already.
 */
import { secretName, secretValue } from './secret-names.js';

const MASK = '***';
const NAME = String.raw`[A-Za-z_][\w.-]*`;
/** A tag's attributes, each quoted (a value may hold `>` or the other quote). */
const ATTR_TEXT = String.raw`\s+(?:${NAME}:)?${NAME}\s*=\s*(?:"[^"]*"|'[^']*')`;
const ATTRS = String.raw`(?:${ATTR_TEXT})*`;
/** A start (or empty) tag with attributes (one at least); 1 the attributes. */
const TAG = new RegExp(String.raw`<(?:${NAME}:)?${NAME}((?:${ATTR_TEXT})+)\s*/?>`, 'g');
/** One attribute; 1 its name, 2 or 3 its value. */
const ATTR = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
/** The `value` attribute (any prefix), as ATTR reads it. */
const VALUE_ATTR = new RegExp(String.raw`(\s(?:${NAME}:)?value\s*=\s*)("|')(?:(?!\2)[^])*\2`);

/** The attributes of a tag, by local name (the first of each). */
function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(ATTR)) {
    const local = m[1]!.slice(m[1]!.indexOf(':') + 1);
    if (!out.has(local)) out.set(local, m[2] ?? m[3]!);
  }
  return out;
}

/** The secret-named `name` or `key` attribute of a tag, if any. */
function namedBy(attrs: Map<string, string>): string | null {
  for (const k of ['name', 'key']) {
    const v = attrs.get(k);
    if (v !== undefined && secretName(v)) return v;
  }
  return null;
}

/** Each line's text masked, its blanks and line breaks kept (the output keeps its line count). */
function byLine(text: string): string {
  return text.split('\n').map((l) => {
    const t = l.trim();
    return t ? l.replace(t, MASK) : l;
  }).join('\n');
}

/** A start tag (not an empty one); 1 the qualified name, 2 its local part, 3 the attributes. */
const START = new RegExp(String.raw`<((?:${NAME}:)?(${NAME}))(${ATTRS})\s*>`, 'g');
/** An end tag; 1 the qualified name. */
const END = new RegExp(String.raw`</((?:${NAME}:)?${NAME})\s*>`, 'g');
/** How far after its start tag a secret element's end tag is looked for (as a CDATA section's bound). */
const BODY_MAX = 65536;

/** A value holder's start or end tag (Spring's `<value>`, any prefix, attributes kept). */
const VALUE_TAG = new RegExp(String.raw`^</?(?:${NAME}:)?value(?:\s[^>]*)?>$`);

type Part = { text: string; kind: 'text' | 'cdata' | 'tag' };

/** `text.indexOf(needle, from)`, the last answer reused while `from` stays before it (scans overlap). */
function finder(text: string): (needle: string, from: number) => number {
  const last = new Map<string, [number, number]>();
  return (needle, from) => {
    const l = last.get(needle);
    if (l && from >= l[0] && (l[1] < 0 || from <= l[1])) return l[1];
    const at = text.indexOf(needle, from);
    last.set(needle, [from, at]);
    return at;
  };
}

/**
 * A secret element's body from `open` as its parts (text, CDATA content, child tags) up to its
 * end tag `</qname>`; where the reading stopped when a CDATA section or a tag is left open first,
 * or no end comes within BODY_MAX. A `</qname>` inside CDATA is content, not the end.
 */
function body(text: string, open: number, qname: string, find: (n: string, f: number) => number): { parts: Part[]; close: number; end: number } | number {
  const parts: Part[] = [];
  const limit = Math.min(text.length, open + BODY_MAX);
  for (let at = open; at < limit; ) {
    if (text.startsWith('<![CDATA[', at)) {
      const e = find(']]>', at + 9);
      if (e < 0 || e > limit) return at;
      parts.push({ text: text.slice(at + 9, e), kind: 'cdata' });
      at = e + 3;
    } else if (text[at] === '<') {
      const e = find('>', at);
      if (e < 0 || e > limit) return at;
      const tag = text.slice(at, e + 1);
      if (tag.startsWith(`</${qname}`) && /^\s*>$/.test(tag.slice(qname.length + 2))) return { parts, close: at, end: e + 1 };
      parts.push({ text: tag, kind: 'tag' });
      at = e + 1;
    } else {
      const e = find('<', at);
      const stop = e < 0 ? limit : Math.min(e, limit);
      parts.push({ text: text.slice(at, stop), kind: 'text' });
      at = stop;
    }
  }
  return limit;
}

/**
 * Mask XML secrets in a text (see the module comment); `count.n` grows by each value masked. A
 * secret element's value is all its text and CDATA content, a `<value>` child's included
 * (`<password> <![CDATA[x]]> </password>`, split sections, Spring's `<property name="password">
 * <value>x</value>`), tags kept. Why end tags are listed first: a start tag with no end tag of
 * its name after it is passed over without a look at its body, so unclosed tags cost nothing.
 */
export function maskXmlSecrets(text: string, count?: { n: number }): string {
  if (!text.includes('<')) return text;
  const lastEnd = new Map<string, number>();
  END.lastIndex = 0;
  for (let m = END.exec(text); m; m = END.exec(text)) lastEnd.set(m[1]!, m.index);
  const find = finder(text);
  // Where a reading of each name stopped: a later start of that name before it stops there too (its end would have been read first).
  const stopped = new Map<string, number>();
  let out = '';
  let from = 0;
  START.lastIndex = 0;
  for (let m = START.exec(text); m; m = START.exec(text)) {
    const [tag, qname, local, attrText] = m as unknown as [string, string, string, string];
    const open = m.index + tag.length;
    if ((lastEnd.get(qname) ?? -1) < open || (stopped.get(qname) ?? -1) > open) continue;
    const by = secretName(local) ? local : attrText ? namedBy(attributes(attrText)) : null;
    const read = by === null ? null : body(text, open, qname, find);
    if (typeof read === 'number') stopped.set(qname, read);
    const b = typeof read === 'number' ? null : read;
    // Child elements other than a value holder (`<value>`) name their own content: a container
    // (`<credentials>`, `<session-factory>`) is not masked whole, its children are read in turn.
    if (b?.parts.some((p) => p.kind === 'tag' && !VALUE_TAG.test(p.text))) continue;
    const value = b?.parts.filter((p) => p.kind !== 'tag').map((p) => p.text).join('').trim();
    if (!b || !value || value === MASK || !secretValue(by!, value)) continue;
    if (count) count.n++;
    const masked = b.parts.map((p) => (p.kind === 'tag' ? p.text : p.kind === 'cdata' ? `<![CDATA[${p.text.trim() ? byLine(p.text) : p.text}]]>` : byLine(p.text)));
    out += text.slice(from, open) + masked.join('');
    from = b.close;
    START.lastIndex = b.end;
  }
  out = from === 0 ? text : out + text.slice(from);
  // A pair in attributes needs a `value` attribute: no look at tags without one.
  if (!/\svalue\s*=/.test(out)) return out;
  return out.replace(TAG, (all: string, attrText: string) => {
    const attrs = attributes(attrText);
    const by = namedBy(attrs);
    const value = attrs.get('value');
    if (by === null || value === undefined || value === MASK || !secretValue(by, value)) return all;
    if (count) count.n++;
    // Its own quote kept (`value='***'`).
    return all.replace(VALUE_ATTR, (_: string, head: string, quote: string) => `${head}${quote}${MASK}${quote}`);
  });
}
