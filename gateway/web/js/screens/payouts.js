// Payouts: Stripe Connect. Start (create the account, then a one-time onboarding link), and the
// states a person comes back to: complete, more information needed, or the link expired.
import { h, mount } from '../dom.js';
import { get, post, describe } from '../api.js';

export const name = 'payouts';
export const title = 'Payouts';

const STATUS = {
  complete: 'Payouts are on. Stripe has what it needs.',
  pending: 'Stripe is checking your details.',
  restricted: 'Stripe needs more information before it can pay out.',
};

export async function render({ tenant, query }) {
  const id = tenant.tenant.id;
  const q = `tenant_id=${encodeURIComponent(id)}`;
  // Stripe sends the browser back here with a single-use `state`: hand it to the return route once
  // (it reads the account from Stripe), then drop it from the address so a reload does not reuse it.
  // A state that is used, expired or unreadable still leaves the person on this page with the
  // account as last known, never on an error screen.
  const returned = query.get('state');
  let returnProblem = null;
  if (returned) {
    history.replaceState(null, '', `${location.pathname}?connect=return`);
    try {
      await get(`/v1/onboarding/connect/return?state=${encodeURIComponent(returned)}`);
    } catch (err) {
      if (err.status !== 400 && err.status !== 404) returnProblem = err;
    }
  }
  let state = { account: null };
  try {
    state = await get(`/v1/onboarding/connect/account?${q}`);
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  const message = h('div', { class: 'form-message', 'aria-live': 'polite' });
  const start = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'connect' }, state.account ? 'Continue with Stripe' : 'Set up payouts');
  start.addEventListener('click', async () => {
    start.disabled = true;
    try {
      if (!state.account) await post('/v1/onboarding/connect/account', { tenant_id: id, country: 'US' });
      const token = await post(`/v1/onboarding/connect/tokens?${q}`, {});
      window.location.assign(`/v1/onboarding/connect/start?token=${encodeURIComponent(token.token)}`);
    } catch (err) {
      start.disabled = false;
      mount(message, h('p', { class: 'alert alert-error', role: 'alert' }, describe(err)));
    }
  });
  const back = query.get('connect');
  const account = state.account;
  const due = account ? [...(account.requirements_past_due || []), ...(account.requirements_currently_due || [])] : [];
  return h('section', {},
    h('h1', {}, 'Payouts'),
    back === 'refresh' ? h('p', { class: 'alert alert-warn', role: 'status' }, 'That Stripe link expired. Start again to get a fresh one.') : null,
    back === 'return' ? h('p', { class: 'alert alert-ok', role: 'status' }, 'Welcome back. Here is where your Stripe setup stands.') : null,
    returnProblem ? h('p', { class: 'alert alert-warn', role: 'status' }, `We could not read your Stripe account just now (${describe(returnProblem)}). What you see may be a little behind.`) : null,
    message,
    h('div', { class: 'panel', 'data-connect-status': account ? account.status : 'none' },
      h('h2', {}, account ? 'Stripe account' : 'Get paid with Stripe'),
      h('p', {}, account ? (STATUS[account.status] || `Status: ${account.status}`) : 'Connect a Stripe account to take payments and receive payouts.'),
      due.length ? h('p', { class: 'hint' }, `Still needed: ${due.join(', ')}`) : null,
      account && account.status === 'complete' ? null : start));
}
