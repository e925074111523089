// Ink a block's text paints outside the block's own box, in real Chromium: what a "Zalgo" stack
// of combining marks does to the lines around it. Shared by the approval-card and transcript tests.
import type { Page } from 'playwright-core';

// Everything else is hidden, the page is shot, and its pixels darker than the background outside
// the box (1px slack) are counted in the page.
const COUNT_INK = `async (b64, box) => {
  const img = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))], { type: 'image/png' }));
  const c = new OffscreenCanvas(img.width, img.height); const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, img.width, img.height).data;
  let outside = 0, inside = 0;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    const i = (y * img.width + x) * 4;
    if (d[i] > 200 && d[i + 1] > 200 && d[i + 2] > 200) continue;
    if (y < box.top - 1 || y > box.bottom + 1 || x < box.left - 1 || x > box.right + 1) outside++; else inside++;
  }
  return { outside, inside };
}`;

/**
 * Pixels painted inside and outside the box of the element `selector` names when only it (and
 * what it holds) is visible. Hides the rest of the page for good: call it last. (Styles are set
 * through the CSSOM: the UI's Content-Security-Policy refuses an inline style sheet.)
 */
export async function inkOutside(page: Page, selector: string): Promise<{ outside: number; inside: number }> {
  const box = await page.evaluate(`(() => {
    for (const el of document.querySelectorAll('*')) el.style.setProperty('visibility', 'hidden', 'important');
    const keep = document.querySelector(${JSON.stringify(selector)});
    for (const el of [keep, ...keep.querySelectorAll('*')]) el.style.setProperty('visibility', 'visible', 'important');
    const b = keep.getBoundingClientRect();
    return { top: b.top + window.scrollY, bottom: b.bottom + window.scrollY, left: b.left, right: b.right };
  })()`);
  const shot = await page.screenshot({ fullPage: true });
  return (await page.evaluate(`(${COUNT_INK})(${JSON.stringify(shot.toString('base64'))}, ${JSON.stringify(box)})`)) as { outside: number; inside: number };
}
