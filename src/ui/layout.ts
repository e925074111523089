/** The page frame: header with navigation and the reviewer, one stylesheet, one script. */
import { html, shown, type Safe } from './html.js';
import type { UiSession } from './auth.js';

/** A full page; why: every page gets the same head (no inline script or style anywhere). */
export function page(title: string, s: UiSession | null, body: Safe, opts: { approvals?: boolean } = {}): string {
  const nav = s
    ? html`<a href="/ui/">Sessions</a>${opts.approvals ? html`<a href="/ui/approvals">Approvals</a>` : ''}
      <span class="who">${shown(s.principal.subject)} (${s.principal.authMethod})</span>
      <form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="${s.csrf}"><button>Log out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · Warden</title><link rel="stylesheet" href="/ui/static/app.css"><script src="/ui/static/app.js" defer></script></head>
<body><header><strong>Warden</strong>${nav}</header><main>${body}</main></body></html>`.value;
}

/** A small error or notice page body. */
export function message(title: string, text: string): Safe {
  return html`<h1>${title}</h1><p class="err">${shown(text)}</p><p><a href="/ui/">Back</a></p>`;
}
