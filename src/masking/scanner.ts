/**
 * Compiles the policy's detector list (plus admin regexes) into one Scanner, once per policy
 * load. Per cell the scanner runs a cheap precheck (keyword, digit-shape and token-prefix regexes)
 * and one character-class test for text that reads differently folded (fold.ts: invisible and
 * look-alike characters, escapes); only cells that could contain a finding pay for the full
 * detectors, and only hinted cells for the fold. bytea hex text is read as the text it holds.
 * Unknown names and bad regexes fail the policy load.
 */
import { ErrorCode, WardenError } from '../errors.js';
import { byteaHexText, toByteaHex } from './bytes.js';
import { DETECTOR_NAMES, DETECTORS_BY_NAME, placeholder } from './detectors.js';
import type { Detector, HitCounts } from './detectors.js';
import { FOLD_HINT, foldText } from './fold.js';
import { ambiguousRepeat, nestedRepeat, splitRepeat } from './pattern-safety.js';

/** An admin-defined detector: `pattern` is a JavaScript regex source; `flags` from "imsu". */
export interface CustomDetector {
  name: string;
  pattern: string;
  flags?: string;
}

/** Policy-level scanner options (`masking.detectors` and `masking.custom`). */
export interface ScannerOptions {
  detectors: string[];
  custom?: CustomDetector[];
}

/** Result of scanning one text: the masked text and per-kind counts (never matched values). */
export interface ScanResult {
  text: string;
  hits: HitCounts;
}

/** A compiled scanner; immutable and safe to share between concurrent calls. */
export interface Scanner {
  /** Masks `text` and reports what was found. */
  scan(text: string): ScanResult;
  /** Hot-path form for table walkers: adds to `hits`, returns `text` itself when nothing matched. */
  maskInto(text: string, hits: HitCounts): string;
  /**
   * For a database's fixed-format text (timestamps, UUIDs): only the policy's custom detectors,
   * which an author may aim at such values; the built-in ones look for free text. Null when the
   * policy has no custom detectors, so the caller can skip such cells outright.
   */
  readonly maskFixedInto: ((text: string, hits: HitCounts) => string) | null;
  /** The detector kinds this scanner can report, e.g. for `describe_database` or explain. */
  readonly kinds: readonly string[];
}

const CUSTOM_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const ALLOWED_FLAGS = /^[imsu]*$/;
// Probes for zero-length matches: a pattern that matches "" somewhere would loop or smear.
const EMPTY_PROBES = ['', ' ', 'a', 'Z', '0', '_', '-', '@', '\n', 'ab 12\ncd', 'user@example.com 123-45-6789'];

function configError(message: string): WardenError {
  return new WardenError(ErrorCode.CONFIG, `masking: ${message}`);
}

function compileCustom(c: CustomDetector): { kind: string; re: RegExp; label: string } {
  const name = typeof c?.name === 'string' ? c.name : '';
  if (!CUSTOM_NAME_RE.test(name)) {
    throw configError(`custom detector name ${JSON.stringify(name)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
  }
  if (typeof c.pattern !== 'string' || c.pattern.length === 0) {
    throw configError(`custom detector "${name}": pattern must be a non-empty string`);
  }
  const flags = c.flags ?? '';
  if (!ALLOWED_FLAGS.test(flags)) {
    throw configError(`custom detector "${name}": flags ${JSON.stringify(flags)} not allowed (use i, m, s, u)`);
  }
  let re: RegExp;
  try {
    re = new RegExp(c.pattern, `g${flags}`);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw configError(`custom detector "${name}": pattern does not compile: ${why}`);
  }
  const nested = nestedRepeat(c.pattern);
  if (nested) {
    throw configError(`custom detector "${name}": pattern has a repeated group holding an unbounded quantifier (${nested}): on a long cell that does not match it backtracks exponentially and holds every call; write the repetition once (e.g. [\\w\\s]+ instead of (\\w+\\s?)+)`);
  }
  const ambiguous = ambiguousRepeat(c.pattern, flags);
  if (ambiguous) {
    throw configError(`custom detector "${name}": pattern has a repeated group whose alternatives can start with the same character (${ambiguous}): on a long cell that does not match it tries every way of splitting a run between them, which backtracks exponentially and holds every call; make the alternatives start differently or merge them (e.g. \\w+ instead of (\\w|\\d)+, (?:ab?)* instead of (a|ab)*)`);
  }
  const split = splitRepeat(c.pattern, flags);
  if (split) {
    throw configError(`custom detector "${name}": pattern has a repeated group that can read a run of text more than one way (${split}): an iteration can end in an optional or variable-length part that can also start the next iteration, start with an optional part that matches what follows it, or hold alternatives that match alike; on a long cell that does not match it tries every way, which backtracks exponentially and holds every call; make each iteration read one way (e.g. (?:[^"\\\\]|\\\\.)*\\\\? instead of (?:[^"\\\\]|\\\\.?)*, a+ instead of (a?a)*, \\d+ instead of (\\d{1,3})+)`);
  }
  for (const probe of EMPTY_PROBES) {
    for (const m of probe.matchAll(re)) {
      if (m[0].length === 0) {
        throw configError(`custom detector "${name}": pattern must not match the empty string`);
      }
    }
  }
  const kind = `custom:${name}`;
  return { kind, re, label: placeholder(kind) };
}

function customDetector(c: CustomDetector): Detector {
  const { kind, re, label } = compileCustom(c);
  return {
    kind,
    trigger: '',
    run(text, hits) {
      let n = 0;
      const out = text.replace(re, (m: string) => {
        if (m.length === 0) return m; // defensive: never "mask" nothing
        n++;
        return label;
      });
      if (n > 0) hits[kind] = (hits[kind] ?? 0) + n;
      return n > 0 ? out : text;
    },
  };
}

function addHits(into: HitCounts, from: HitCounts): void {
  for (const k in from) into[k] = (into[k] ?? 0) + (from[k] ?? 0);
}

/** Whether `a` found at least as many of every kind as `b`. */
function covers(a: HitCounts, b: HitCounts): boolean {
  for (const k in b) if ((a[k] ?? 0) < (b[k] ?? 0)) return false;
  return true;
}

/** Compile the scanner for a policy; throws WardenError(CONFIG) naming the bad entry. */
export function compileScanner(opts: ScannerOptions): Scanner {
  const requested = new Set<string>();
  for (const name of opts.detectors ?? []) {
    if (!Object.prototype.hasOwnProperty.call(DETECTORS_BY_NAME, name)) {
      throw configError(`unknown detector "${String(name)}" (known: ${DETECTOR_NAMES.join(', ')})`);
    }
    requested.add(name);
  }
  const builtins: Detector[] = [];
  for (const name of DETECTOR_NAMES) {
    if (!requested.has(name)) continue;
    for (const d of DETECTORS_BY_NAME[name] ?? []) if (!builtins.includes(d)) builtins.push(d);
  }
  const seen = new Set<string>();
  const customs: Detector[] = [];
  for (const c of opts.custom ?? []) {
    const d = customDetector(c);
    if (seen.has(d.kind)) throw configError(`custom detector "${c.name}" is defined twice`);
    seen.add(d.kind);
    customs.push(d);
  }

  // Three prechecks for all built-ins: keywords, digit shapes, vendor-token prefixes. Separate
  // simple regexes beat one alternation of all by ~30% or more in irregexp; per-detector gates
  // then pick which ones run.
  const words = builtins.filter((d) => d.digitTail === undefined && !d.prefixed).map((d) => d.trigger);
  const tails = builtins.filter((d) => d.digitTail !== undefined).map((d) => d.digitTail as string);
  const prefixes = builtins.filter((d) => d.prefixed).map((d) => d.trigger);
  const wordCheck = words.length ? new RegExp([...new Set(words)].join('|')) : null;
  const digitCheck = tails.length ? new RegExp(`\\d\\d\\d(?:${tails.join('|')})`) : null;
  const prefixCheck = prefixes.length ? new RegExp(prefixes.join('|')) : null;
  const gates = builtins.map((d) => new RegExp(d.gate ?? d.trigger));
  const nBuiltins = builtins.length;
  const nCustoms = customs.length;

  const maskPlain = (text: string, hits: HitCounts): string => {
    let out = text;
    if (
      (wordCheck !== null && wordCheck.test(text)) ||
      (digitCheck !== null && digitCheck.test(text)) ||
      (prefixCheck !== null && prefixCheck.test(text))
    ) {
      for (let i = 0; i < nBuiltins; i++) {
        if ((gates[i] as RegExp).test(out)) out = (builtins[i] as Detector).run(out, hits);
      }
    }
    for (let i = 0; i < nCustoms; i++) out = (customs[i] as Detector).run(out, hits);
    return out;
  };

  // Text that reads differently folded (fold.ts) is scanned both ways. When the folded reading
  // finds more, the text comes back in its folded form, masked; the plain form would keep the
  // pieces around an invisible character ("al<ZWSP>ice@x.io" -> "al[email]").
  const maskFolded = (text: string, hits: HitCounts): string => {
    const folded = foldText(text);
    if (folded === text) return maskPlain(text, hits);
    const plainHits: HitCounts = {};
    const plain = maskPlain(text, plainHits);
    const foldedHits: HitCounts = {};
    const masked = maskPlain(folded, foldedHits);
    if (masked === folded) {
      addHits(hits, plainHits);
      return plain;
    }
    if (covers(foldedHits, plainHits)) {
      addHits(hits, foldedHits);
      return masked;
    }
    // Folding joined what the plain reading found apart: fold what that reading left, and scan again.
    const rest = foldText(plain);
    addHits(hits, plainHits);
    return maskPlain(rest, hits);
  };

  const maskInto = (text: string, hits: HitCounts): string => {
    if (nBuiltins + nCustoms === 0) return text; // nothing to find: no fold, no bytes to read
    const bytes = text.charCodeAt(0) === 92 ? byteaHexText(text) : null;
    if (bytes !== null) {
      // bytea's text form: the bytes are read as text; what is masked goes back out as bytea.
      const found: HitCounts = {};
      const masked = maskInto(bytes, found);
      if (masked === bytes) return text;
      addHits(hits, found);
      return toByteaHex(masked);
    }
    return FOLD_HINT.test(text) ? maskFolded(text, hits) : maskPlain(text, hits);
  };

  return {
    kinds: Object.freeze([...new Set([...builtins.map((d) => d.kind), ...customs.map((d) => d.kind)])]),
    maskInto,
    maskFixedInto: nCustoms
      ? (text: string, hits: HitCounts): string => {
          let out = text;
          for (let i = 0; i < nCustoms; i++) out = (customs[i] as Detector).run(out, hits);
          return out;
        }
      : null,
    scan(text: string): ScanResult {
      const hits: HitCounts = {};
      return { text: maskInto(text, hits), hits };
    },
  };
}
