// Payment pending: polls the workspace's status by the documented readiness policy — honour
// Retry-After, else 250 ms doubling, at most 3 s per wait — and turns into the workspace by itself
// when the payment lands. After ~10 s it says so calmly and keeps checking (never a dead end).
import { h, mount, sleep } from '../dom.js';
import { get } from '../api.js';
import { state, tenants, forget } from '../session.js';
import { navigate, currentScreen } from '../router.js';
import { errorPanel } from '../widgets.js';

export const name = 'payment-pending';
export const title = 'Confirming your payment';

const MAX_WAIT_MS = 3000;
const PATIENCE_MS = 10000;

export async function render({ query, tenant }) {
  const id = query.get('tenant') || (tenant && tenant.tenant.id) || state.tenantId;
  const status = h('p', { 'aria-live': 'polite', 'data-testid': 'pending-status' }, 'This usually takes a few seconds. This page will update by itself.');
  const progress = h('progress', { 'aria-label': 'Confirming your payment' });
  const extra = h('div', {});
  const page = h('section', { class: 'card' }, h('h1', {}, 'Confirming your payment…'), progress, status, extra);
  const started = Date.now();
  let delay = 250;
  let wake = null;
  const poll = async () => {
    while (currentScreen() === name) {
      let answer = null;
      try {
        answer = await get(`/v1/tenants/${encodeURIComponent(id)}/status`);
      } catch (err) {
        if (err.status === 401 || err.status === 404) { progress.remove(); mount(extra, errorPanel(err, () => navigate('/app'))); return; }
      }
      if (answer && answer.ready) {
        forget();
        await tenants({ fresh: true }).catch(() => null);
        navigate('/get-started', { replace: true });
        return;
      }
      if (Date.now() - started > PATIENCE_MS && !extra.firstChild) {
        mount(status, 'Still confirming. Payments can take a moment; this page will update by itself.');
        mount(extra, h('p', {}, h('button', { type: 'button', class: 'btn', onclick: () => wake && wake() }, 'Check again'),
          ' ', h('a', { href: '/billing' }, 'Go to billing')));
      }
      const hinted = answer && answer.retry_after_seconds ? answer.retry_after_seconds * 1000 : delay;
      const wait = Math.min(Math.max(hinted, 250), MAX_WAIT_MS);
      delay = Math.min(delay * 2, MAX_WAIT_MS);
      await Promise.race([sleep(wait), new Promise((resolve) => { wake = resolve; })]);
    }
  };
  poll();
  return page;
}
