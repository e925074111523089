/**
 * `warden serve --http HOST:PORT`: MCP over Streamable HTTP with the reviewer UI mounted under
 * /ui, policy hot reload, and a graceful shutdown on SIGTERM/SIGINT (in-flight calls finish and
 * are recorded). On loopback a one-time login link for the UI is printed to stderr.
 */
import type { Runtime } from '../server/runtime.js';
import { serveOverHttp } from '../server/http.js';
import { parseListen } from '../server/http-serve.js';
import { verifierFromConfig, verifyBearerToken } from '../server/http-verifier.js';
import { watchPolicies } from '../server/policy-watch.js';
import { log } from '../server/log.js';
import { localLoginRefused } from '../config/server-config.js';
import { ErrorCode, WardenError } from '../errors.js';
import { reviewsAnything } from '../policy/engine.js';
import { isAdmin } from '../pipeline/builtins/explain-call.js';
import { isDelegated } from '../policy/actors.js';
import type { Principal } from '../tool-api.js';
import { createUiHandler, type UiHandler, type UiStore } from '../ui/index.js';

/** Serve until a signal; returns after the graceful shutdown. */
export async function serveHttpWithUi(rt: Runtime, listen: string, version: string): Promise<void> {
  const { host, port } = parseListen(listen);
  const verifier = verifierFromConfig(rt);
  // Who may use the UI: a reviewer or an admin acting directly. A token with an `act` claim (an
  // agent acting for a reviewer, well formed or not) is refused, as approvals refuse it: the UI
  // shows every principal's transcripts, and an agent's own grants do not reach them.
  const uiReviewer = (p: Principal) => !isDelegated(p.claims) && (isAdmin(rt.config.admins, p) || reviewsAnything(rt.policy(), p));
  let ui: UiHandler | undefined;
  const mount = rt.config.ui.enabled
    ? { '/ui': (req: Parameters<UiHandler['handler']>[0], res: Parameters<UiHandler['handler']>[1]) => (ui ? ui.handler(req, res) : void res.writeHead(503).end()) }
    : undefined;
  const handle = await serveOverHttp(rt, { host, port, version, ...(mount ? { mount } : {}) });
  if (mount) {
    ui = createUiHandler({
      store: rt.store as unknown as UiStore,
      ...(rt.approvals ? { approvals: rt.approvals } : {}),
      // The UI token login is checked like the MCP endpoint (signature, issuer, audience, expiry,
      // required scopes), and is for reviewers and admins acting directly only: the UI shows
      // every principal's transcripts. The session ends when the token does.
      verifyToken: async (token) => {
        const v = await verifyBearerToken(verifier, token);
        // A reviewer seen with a verified token that no longer qualifies loses the approvals it
        // gave on requests still open, whether or not this sign-in is then refused (withdraw.ts).
        await rt.approvals?.withdrawIneligible?.(v.principal);
        if (isDelegated(v.principal.claims)) {
          throw new WardenError(ErrorCode.UNAUTHENTICATED, 'the token carries an act (delegation) claim: the UI is for reviewers acting directly, not agents acting for them', { reason: 'not_a_reviewer', subject: v.principal.subject });
        }
        if (!uiReviewer(v.principal)) {
          throw new WardenError(ErrorCode.UNAUTHENTICATED, 'this identity reviews nothing under the current policy', { reason: 'not_a_reviewer', subject: v.principal.subject });
        }
        return { principal: v.principal, expiresAt: v.expiresAt };
      },
      // ... and stays for reviewers and admins only: a policy reload can end a session early.
      // The one-time-link session is the machine's own reviewer (ui.local_reviewer) and stays.
      stillReviewer: (p) => p.authMethod === 'local' || uiReviewer(p),
      baseUrl: handle.url,
      // A session ends at its lifetime (ui.session_max_lifetime), or sooner with its token.
      sessionTtlMs: rt.config.ui.session_max_lifetime,
      // The same Origin policy as every request to this listener passed (scheme, host and port).
      allowsOrigin: (o) => handle.allowsOrigin(o),
      // Behind a TLS proxy the listener is plain http, but the public resource URI says https.
      secureCookies: handle.url.startsWith('https:') || /^https:\/\//i.test(rt.config.identity.oidc?.audience ?? ''),
      log,
      localLogin: localLoginRefused(rt.config) ? 'refuse' : 'allow',
      localPrincipal: { subject: rt.config.ui.local_reviewer.subject, groups: rt.config.ui.local_reviewer.groups, claims: {}, authMethod: 'local' },
    });
  }
  const stopWatching = watchPolicies(rt, log);
  process.stderr.write(`warden: MCP over Streamable HTTP at ${handle.url}/mcp\n`);
  if (ui) {
    process.stderr.write(`warden: reviewer UI at ${handle.url}/ui/\n`);
    // The link is an identity Warden cannot check; refused (ui.local_login / approvals.cli_as), none is printed.
    if (localLoginRefused(rt.config)) process.stderr.write('warden: one-time UI login links are off (ui.local_login / approvals.cli_as: refuse): sign in with a token\n');
    else if (/^(127\.|\[::1\]|localhost)/.test(host) || host === '::1') process.stderr.write(`warden: one-time UI login link (10 minutes, this machine only): ${ui.loginUrl()}\n`);
  }
  await new Promise<void>((done) => {
    process.once('SIGTERM', () => done());
    process.once('SIGINT', () => done());
  });
  log('info', 'shutting down: waiting for in-flight calls');
  stopWatching();
  ui?.close();
  await handle.close();
  await rt.close();
}
