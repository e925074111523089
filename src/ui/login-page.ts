/** The login page: paste an OIDC bearer token, or use the one-time link printed at startup. */
import { html } from './html.js';
import { page } from './layout.js';

/** Render the login form; why: reviewers without a localhost link sign in with their IdP token. */
export function loginPage(opts: { oidc: boolean; error?: string; noLink?: boolean }): string {
  const form = opts.oidc
    ? html`<form method="post" action="/ui/login">
        <label>OIDC access token<br><textarea name="token" rows="4" cols="70" required autocomplete="off"></textarea></label>
        <p><button>Sign in</button></p></form>`
    : html`<p>OIDC sign-in is not configured on this server.</p>`;
  return page(
    'Sign in',
    null,
    html`<h1>Sign in to review transcripts</h1>${opts.error ? html`<p class="err">${opts.error}</p>` : ''}${form}
      ${opts.noLink ? '' : html`<p class="meta">On this machine, open the one-time login link Warden printed at startup.</p>`}`,
  );
}
