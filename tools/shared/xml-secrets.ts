/**
 * Secrets in XML configuration, which the name-beside-value forms (secret-text.ts) did not read:
 * an element named as a secret (Maven's settings.xml `<password>x</password>`, `<db:Password>`,
 * `<connectionPassword>`), and a tag whose `name`/`key` attribute names a secret with the value
 * in its `value` attribute or as its text (Spring's `<property name="password" value="x"/>`, .NET's
 * `<add key="DbPassword" value="x" />`, Hibernate's `<property name="hibernate.connection.password">
 * x</property>`). `cat settings.xml` through ssh_run printed them bare. An attribute that is itself
 * secret-named (`password="x"`) is the forms' (`NAME=value`). Not read: a CDATA section's text.
 */
import { secretValue } from './secret-names.js';

const MASK = '***';
/** An element with text only (no child tag): its name, attributes and text up to the next `<` (linear: each text is read once). */
const ELEMENT = /<([A-Za-z_][\w.:-]*)((?:\s[^<>]*)?)>([^<]*)<\/\1\s*>/g;
/** A tag's text and where it ends: `<NAME attrs>` or `<NAME attrs/>`. */
const TAG = /<[A-Za-z_][\w.:-]*(\s[^<>]*?)?(\/?)>/g;
/** One attribute with a quoted value. */
const ATTRIBUTE = /([\w.:-]+)\s*=\s*("[^"]*"|'[^']*')/g;
/** Attributes that name the setting a tag holds. */
const NAMING = /^(?:name|key|id|property)$/i;

/** An XML name without its namespace prefix (`db:Password` is `Password`). */
const local = (name: string) => name.slice(name.lastIndexOf(':') + 1);

/** A text's lines each masked whole, its blanks and line breaks kept (lines already masked or blank left). */
function maskLines(value: string): string {
  return value.split('\n').map((line) => {
    const v = line.trim();
    if (v === '' || v === MASK) return line;
    const lead = line.length - line.trimStart().length;
    return `${line.slice(0, lead)}${MASK}${line.slice(lead + v.length)}`;
  }).join('\n');
}

/** `<secret-name>value</secret-name>` with the value masked line by line (an OpenVPN `<auth-user-pass>` keeps its two lines), its blanks kept. */
function maskElements(text: string, count?: { n: number }): string {
  return text.replace(ELEMENT, (all: string, name: string, attrs: string, value: string) => {
    const v = value.trim();
    if (v === '' || v === MASK || !secretValue(local(name), v)) return all;
    const masked = maskLines(value);
    if (masked === value) return all;
    if (count) count.n++;
    return `<${name}${attrs}>${masked}</${name}>`;
  });
}

/** A tag naming a secret in its `name`/`key` attribute: its `value` attribute masked, or the text after it up to the next `<`. */
function maskNamedTags(text: string, count?: { n: number }): string {
  let out = '';
  let at = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(text); m !== null; m = TAG.exec(text)) {
    const attrs = m[1] ?? '';
    const attrsAt = m.index + m[0].length - (m[2] as string).length - 1 - attrs.length;
    let secret: string | null = null;
    let value: { start: number; end: number; text: string } | null = null;
    ATTRIBUTE.lastIndex = 0;
    for (let a = ATTRIBUTE.exec(attrs); a !== null; a = ATTRIBUTE.exec(attrs)) {
      const [name, quoted] = [a[1] as string, a[2] as string];
      if (NAMING.test(name) && secret === null) secret = quoted.slice(1, -1);
      else if (/^value$/i.test(name)) value = { start: attrsAt + a.index + a[0].length - quoted.length + 1, end: attrsAt + a.index + a[0].length - 1, text: quoted.slice(1, -1) };
    }
    if (secret === null) continue;
    if (value === null && m[2] === '') {
      // The tag's text: up to the next tag.
      const end = text.indexOf('<', TAG.lastIndex);
      const body = text.slice(TAG.lastIndex, end === -1 ? text.length : end);
      const v = body.trim();
      if (v !== '' && v !== MASK && secretValue(secret, v)) {
        const from = TAG.lastIndex + (body.length - body.trimStart().length);
        value = { start: from, end: from + v.length, text: v };
      }
    }
    if (value === null || value.text === '' || value.text === MASK || !secretValue(secret, value.text) || value.start < at) continue;
    out += text.slice(at, value.start) + MASK;
    at = value.end;
    if (count) count.n++;
  }
  return at === 0 ? text : out + text.slice(at);
}

/** `text` with the secrets of XML elements and named tags masked; `count.n` grows by each value masked. */
export function maskXmlSecrets(text: string, count?: { n: number }): string {
  if (!text.includes('<')) return text;
  return maskNamedTags(maskElements(text, count), count);
}
