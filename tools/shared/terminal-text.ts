/**
 * Command output as plain text. A remote command can print terminal escape sequences (colour
 * from `grep --color=always` or `ls --color=always`, cursor moves, window titles) and other
 * control characters. A terminal renders them as nothing, and a model reads straight past them,
 * but they split the text the masking reads: `AKIA\e[01;31m\e[KZ7Q4...` or `DB_\e[1mPASSWORD\e[m=`
 * matched no detector and no secret name. They also reach whatever shows the result in a
 * terminal. So they are removed before any masking, and the agent and the transcript get text.
 */

/**
 * Control strings (OSC, DCS, SOS, PM, APC) up to their terminator (BEL or ST). Their body stops
 * at the first ESC or BEL, so every attempt ends there: linear on any output.
 */
const CONTROL_STRING = /\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)/g;
/** Control sequences (CSI, 7- and 8-bit): parameters, intermediates, one final byte. */
const CSI = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]/g;
/** Other escape sequences (charset, keypad, reset...), and an unterminated introducer. */
const ESCAPE = /\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
/** C0 and C1 controls except tab, newline and carriage return; DEL. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;
const ANY_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

/** Backspaces as a terminal applies them (`A\bA` is a bold A, `x\by` shows y), in one pass. */
function applyBackspaces(text: string): string {
  const out: string[] = [];
  for (const ch of text) {
    if (ch !== '\b') out.push(ch);
    else if (out.length > 0 && out[out.length - 1] !== '\n') out.pop();
  }
  return out.join('');
}

/**
 * `text` without terminal escape sequences and control characters (tab, newline and CR kept);
 * the same string when it has none. Why exported: every tool that returns a command's output
 * runs it first (maskSecretStreams does).
 */
export function plainText(text: string): string {
  if (!ANY_CONTROL.test(text)) return text;
  let s = text.replace(CONTROL_STRING, '').replace(CSI, '').replace(ESCAPE, '');
  if (s.includes('\b')) s = applyBackspaces(s);
  return s.replace(CONTROL, '');
}
