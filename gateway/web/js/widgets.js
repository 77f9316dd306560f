// Pieces several screens share: the trial pill, the error panel, the upgrade prompt, a retry-after
// countdown and the resend-verification button with its cooldown.

import { h, mount } from './dom.js';
import { post, describe, waitInWords, ApiError } from './api.js';

const PILL_TEXT = {
  pristine: (s) => `${s.trial_days_left} days left in trial`,
  warning: (s) => `${s.trial_days_left} days left in trial`,
  urgent: (s) => (s.trial_days_left <= 1 ? 'Trial ends today' : `${s.trial_days_left} days left in trial`),
  expired: () => 'Trial ended',
  paid: (s) => (s.plan ? s.plan.name : 'Paid'),
  complimentary: () => 'Complimentary',
  past_due: () => 'Payment past due',
  canceled: () => 'Canceled',
};

/** The trial pill: colour and words by `trial_state` (8 states). */
export function trialPill(summary) {
  if (!summary || !PILL_TEXT[summary.trial_state]) return null;
  const state = summary.trial_state;
  const text = (PILL_TEXT[state] || (() => state))(summary);
  return h('a', { class: `pill pill-${state}`, href: '/billing', 'data-trial-state': state, title: 'Billing' }, text);
}

/** The error panel: title, detail, the trace id to quote, and a retry button. */
export function errorPanel(err, retry) {
  const problem = (err && err.problem) || {};
  const title = err instanceof ApiError && err.status && err.status < 500
    ? (problem.title || 'That did not work')
    : 'Something went wrong';
  return h('div', { class: 'panel panel-error', role: 'alert', 'data-error-status': err && err.status },
    h('h2', {}, title),
    h('p', {}, describe(err)),
    problem.trace_id ? h('p', { class: 'trace' }, 'Reference to quote: ', h('code', {}, problem.trace_id)) : null,
    retry ? h('button', { type: 'button', class: 'btn', onclick: retry }, 'Try again') : null);
}

/** The upgrade prompt for 403 LIMIT_EXCEEDED: the limit and where to lift it. */
export function upgradePrompt(err) {
  return h('div', { class: 'panel panel-upgrade', role: 'alert', 'data-upgrade': 'true' },
    h('h2', {}, 'Upgrade to do more'),
    h('p', {}, err.problem.detail || 'Your plan’s limit is reached.'),
    h('a', { class: 'btn btn-primary', href: '/account/billing/select-plan' }, 'See plans'));
}

/** Disables `button` for `seconds`, showing the countdown in `label`, then re-enables it. */
export function countdown(button, seconds, label) {
  let left = Math.ceil(seconds);
  button.disabled = true;
  const tick = () => {
    if (left <= 0) {
      button.disabled = false;
      mount(label, '');
      return;
    }
    mount(label, `Try again in ${waitInWords(left)}.`);
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}

/** "Resend the link" with its cooldown from `next_resend_allowed_at` or Retry-After. */
export function resendButton() {
  const status = h('p', { class: 'hint', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'btn', 'data-action': 'resend' }, 'Resend the link');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const answer = await post('/v1/auth/resend-verification', {});
      if (answer && answer.already_verified) {
        mount(status, 'Your address is already verified.');
        return;
      }
      const next = answer && answer.next_resend_allowed_at ? (Date.parse(answer.next_resend_allowed_at) - Date.now()) / 1000 : 0;
      mount(status, 'Sent. Check your inbox.');
      if (next > 0) setTimeout(() => countdown(button, next, status), 1500);
      else button.disabled = false;
    } catch (err) {
      if (err.status === 429 && err.retryAfter) countdown(button, err.retryAfter, status);
      else { mount(status, describe(err)); button.disabled = false; }
    }
  });
  return h('div', { class: 'resend' }, button, status);
}
