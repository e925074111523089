/**
 * The UI's only static files: one small stylesheet and one small script (live updates).
 * Served from /ui/static/ so the Content-Security-Policy can forbid everything inline.
 */

/**
 * The stylesheet; why: readable tables without a framework. `overflow-wrap:anywhere` everywhere:
 * a long unbroken word or a run of no-break spaces (which CSS never wraps at) in an agent's text
 * once scrolled the page or a block sideways and put the call's tail off screen. Every text is
 * drawn in stored order, left to right (`unicode-bidi:bidi-override`, the reviewer's own input
 * fields aside): right-to-left letters need no control character to reorder what surrounds them,
 * and two Hebrew letters around `5, 50000` drew a call paying out 5 as `50000 ,5`.
 */
export const CSS = `
body,body :not(input,textarea){unicode-bidi:bidi-override;direction:ltr}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9;overflow-wrap:anywhere}
header{background:#1d232a;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#cfe3ff;text-decoration:none}header .who{margin-left:auto;opacity:.85}
header form{display:inline}main{padding:1rem 1.2rem;max-width:1400px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.35rem .5rem;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}tr:hover td{background:#fafbfc}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:1rem;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:#555}
input,select,button{font:inherit;padding:.25rem .4rem}button{cursor:pointer}
pre{white-space:pre-wrap;word-break:break-all;overflow-wrap:anywhere;background:#f3f4f6;padding:.5rem;margin:.3rem 0;max-height:24rem;overflow:auto}
pre.bound-call{max-height:none}
.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:12px;background:#e3e6ea}
.allow,.ok,.approved{background:#d7f5dd}.deny,.denied,.error{background:#fde0e0}.pending{background:#fff1c2}
.call{background:#fff;border:1px solid #e3e6ea;border-radius:.4rem;padding:.6rem .8rem;margin:.6rem 0}
.call h3{margin:0 0 .3rem;font-size:15px}.meta{color:#555;font-size:12px}.cut{color:#8a5a00;font-size:12px}
.event{margin:.2rem 0;font-size:13px}.pager{margin:1rem 0;display:flex;gap:1rem}.flash{background:#e8f1ff;padding:.5rem;margin-bottom:1rem}
.err{background:#fde0e0;padding:.5rem;margin-bottom:1rem}.rtl-note{background:#eef1f4;border-left:4px solid #777;padding:.4rem .5rem;margin:.4rem 0}.lookalike{background:#fff1c2;border-left:4px solid #c77700;padding:.4rem .5rem;margin:.4rem 0;font-weight:600}.voided{background:#eee;border-left:4px solid #777;padding:.4rem .5rem;margin:.4rem 0;color:#333}.live{font-size:12px;color:#2a7a2a}.cannot-decide{background:#eee;border-left:4px solid #777;padding:.4rem .5rem;margin:.4rem 0;color:#333}.notice-off{visibility:hidden}
`;

/**
 * The script: subscribe to /ui/events and refresh the page's live region in place; a region
 * marked data-live-notice (the approvals queue, which holds Approve buttons) is never re-rendered:
 * when its text changed, #live-changed (in place from the start) is shown instead, so nothing moves under the pointer.
 */
export const JS = `'use strict';
(function () {
  var region = document.querySelector('[data-live]');
  var badge = document.getElementById('live');
  if (!region || !window.EventSource) return;
  var notice = region.hasAttribute('data-live-notice') ? document.getElementById('live-changed') : null;
  var busy = false, again = false;
  function differs(t) {
    var tpl = document.createElement('template');
    tpl.innerHTML = t;
    return tpl.content.textContent !== region.textContent;
  }
  function show(t) {
    if (notice) {
      if (differs(t)) notice.classList.remove('notice-off');
      return;
    }
    region.innerHTML = t;
    if (badge) badge.textContent = 'live, updated ' + new Date().toLocaleTimeString();
  }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(region.getAttribute('data-live'), { credentials: 'same-origin', headers: { 'X-Warden-Fragment': '1' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) { if (t !== null) show(t); })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var es = new EventSource('/ui/events');
  es.addEventListener('change', refresh);
  es.onopen = function () { if (badge) badge.textContent = 'live'; };
  es.onerror = function () { if (badge) badge.textContent = 'reconnecting'; };
})();
`;
