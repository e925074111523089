/**
 * The Unicode Bidirectional Algorithm of a real renderer (Chromium's, ICU's), applied to plain
 * text: the tests' oracle for "a reader that applies the bidi algorithm to a line draws it in the
 * order it is stored". Each line is drawn as a plain text node (no CSS bidi override) in a
 * paragraph of the given direction: `ltr` (a terminal's default) or `auto` (direction from the
 * first strong letter, as Slack and terminals that guess it). Why a browser and not a package:
 * Chromium is already a test dependency (the UI tests), and its bidi is the one chat clients use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';

/** One line: its visible characters in drawn order (left to right) and in stored order. */
export interface DrawnLine {
  drawn: string;
  stored: string;
}

/** A blank page in a fresh headless Chromium; everything is closed when `t` ends. */
export async function bidiPage(t: { after: (fn: () => Promise<void>) => void }): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bidi-'));
  const browser: BrowserContext = await launchChromium(dir, { width: 4000, height: 800 });
  t.after(async () => {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = await browser.newPage();
  await page.setContent('<!doctype html><meta charset="utf-8"><body style="margin:0;font:14px monospace"></body>');
  return page;
}

/**
 * Each line drawn on one row (`white-space: pre`) in a paragraph of direction `dir`: its
 * characters sorted by where they are drawn, and as stored. Blanks and format characters (the
 * bidi marks themselves) draw nothing and are left out of both.
 */
export async function drawnLines(page: Page, lines: string[], dir: 'ltr' | 'auto'): Promise<DrawnLine[]> {
  return (await page.evaluate(
    `((lines, dir) => lines.map((line) => {
      const div = document.createElement('div');
      div.setAttribute('dir', dir);
      div.style.whiteSpace = 'pre';
      const n = document.createTextNode(line);
      div.appendChild(n);
      document.body.replaceChildren(div);
      const boxes = [];
      let stored = '';
      for (let i = 0; i < line.length; ) {
        const ch = String.fromCodePoint(line.codePointAt(i));
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + ch.length);
        i += ch.length;
        if (/[\\s\\p{Cf}]/u.test(ch)) continue;
        stored += ch;
        const b = r.getBoundingClientRect();
        boxes.push({ ch, x: b.left + b.width / 2 });
      }
      return { drawn: boxes.sort((a, b) => a.x - b.x).map((b) => b.ch).join(''), stored };
    }))(${JSON.stringify(lines)}, ${JSON.stringify(dir)})`,
  )) as DrawnLine[];
}

/** The lines of `text` whose drawn order differs from their stored order, in either paragraph direction. */
export async function reordered(page: Page, text: string): Promise<string[]> {
  const lines = text.split('\n');
  const bad: string[] = [];
  for (const dir of ['ltr', 'auto'] as const) {
    const drawn = await drawnLines(page, lines, dir);
    drawn.forEach((d, i) => {
      if (d.drawn !== d.stored) bad.push(`${dir}: ${JSON.stringify(lines[i])} drawn as ${JSON.stringify(d.drawn)}`);
    });
  }
  return bad;
}

/**
 * A text with Warden's own stored-order marks taken off: LRM LRO, then a text on one line with no
 * raw PDF, then PDF (a whole line, or one field of a line).
 */
export function withoutOrderMarks(text: string): string {
  return text.replace(/\u200e\u202d([^\u202c\n]*)\u202c/gu, '$1');
}
