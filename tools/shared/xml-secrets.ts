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
/** A CDATA section of at most 64 KiB (bounded: an unclosed one costs a bounded look). */
const CDATA = String.raw`<!\[CDATA\[(?:[^\]]|\](?!\]>)){0,65536}\]\]>`;
/** A tag's attributes, each quoted (a value may hold `>` or the other quote). */
const ATTR_TEXT = String.raw`\s+(?:${NAME}:)?${NAME}\s*=\s*(?:"[^"]*"|'[^']*')`;
const ATTRS = String.raw`(?:${ATTR_TEXT})*`;
/** An element holding text only: `<p:name attrs>text</p:name>`; 1 the name, 2 its local part, 3 the attributes, 4 the text. */
const ELEMENT = new RegExp(String.raw`<((?:${NAME}:)?(${NAME}))(${ATTRS})\s*>(${CDATA}|[^<]*)</\1\s*>`, 'g');
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

/** Mask XML secrets in a text (see the module comment); `count.n` grows by each value masked. */
export function maskXmlSecrets(text: string, count?: { n: number }): string {
  if (!text.includes('<')) return text;
  const out = text.replace(ELEMENT, (all: string, qname: string, local: string, attrText: string, body: string) => {
    const cdata = body.startsWith('<![CDATA[');
    const inner = cdata ? body.slice(9, -3) : body;
    const value = inner.trim();
    if (value === '' || value === MASK) return all;
    const by = secretName(local) ? local : attrText ? namedBy(attributes(attrText)) : null;
    if (by === null || !secretValue(by, value)) return all;
    if (count) count.n++;
    const masked = cdata ? `<![CDATA[${byLine(inner)}]]>` : byLine(inner);
    return `<${qname}${attrText}>${masked}</${qname}>`;
  });
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
