/**
 * A call's full-arguments page (/ui/calls/<id>/args) is a transcript page like the others: no
 * session, it answers as the session and result pages do (a redirect to sign-in; 401 for a
 * fragment); a reviewer taken off the reviewers is refused with the same 403; a reviewer reads
 * the complete arguments, HTML in them escaped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XSS } from './fixtures.js';
import { seededUi } from './seeded-ui.js';

const cookieOf = (r: Response) => (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

test('full arguments: refused exactly as the other transcript pages, escaped for a reviewer', async (t) => {
  const { ui, base, setReviewer } = await seededUi(t, 'warden-ui-args-');

  const args = '/ui/calls/call-evil/args';
  const others = ['/ui/calls/call-evil/result', '/ui/sessions/sess-evil'];
  const answer = async (p: string, cookie?: string) => {
    const r = await fetch(`${base}${p}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    return { status: r.status, location: r.headers.get('location'), body: await r.text() };
  };
  // No session: as the session and result pages.
  for (const suffix of ['', '?fragment=1']) {
    const a = await answer(args + suffix);
    assert.ok(a.status === 303 || a.status === 401, `${suffix}: refused (${a.status})`);
    for (const o of others) {
      const b = await answer(o + suffix);
      assert.deepEqual([a.status, a.location], [b.status, b.location], `${suffix}: ${args} answers as ${o}`);
    }
    assert.ok(!a.body.includes('alert('), 'no arguments without a session');
  }
  // Signed in, then no longer a reviewer: the same 403 as the other pages, and nothing shown.
  for (const p of [args, ...others]) {
    const cookie = cookieOf(await fetch(ui.loginUrl(), { redirect: 'manual' }));
    setReviewer(false);
    const a = await answer(p, cookie);
    setReviewer(true);
    assert.equal(a.status, 403, `${p}: refused to a former reviewer`);
    assert.ok(!a.body.includes('alert('), `${p}: no transcript content`);
  }
  // A reviewer: the complete arguments, the HTML as text.
  const cookie = cookieOf(await fetch(ui.loginUrl(), { redirect: 'manual' }));
  const a = await answer(args, cookie);
  assert.equal(a.status, 200);
  assert.ok(!a.body.includes(XSS) && !/<script>alert|<img src=x/.test(a.body), 'no markup from the arguments');
  assert.ok(a.body.includes('&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;'), 'the arguments escaped, in full');
  assert.equal((await answer('/ui/calls/no-such-call/args', cookie)).status, 404);
});
