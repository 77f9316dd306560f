// Log in with email and password (or a provider), then on to `next`.
import { h, field, values, clearErrors, showProblem, busy, card } from '../dom.js';
import { get, describe } from '../api.js';
import { login } from '../session.js';
import { currentNext, withNext } from '../next.js';
import { navigate } from '../router.js';
import { oauthButtons } from './oauth_callback.js';
import { countdown } from '../widgets.js';

export const name = 'login';
export const title = 'Log in';

export async function render() {
  const config = await get('/v1/config/public').catch(() => ({ oauth_providers: [] }));
  const next = currentNext();
  const wait = h('p', { class: 'hint', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const form = h('form', { novalidate: true },
    field({ name: 'email', label: 'Email', type: 'email', required: true, autocomplete: 'email' }),
    field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' }),
    submit, wait);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const { email, password } = values(form);
    busy(form, async () => {
      try {
        await login(email, password);
        navigate(next, { replace: true });
      } catch (err) {
        if (err.status === 401) showProblem(form, err, () => 'That email and password do not match.');
        else showProblem(form, err, describe);
        if (err.status === 429 && err.retryAfter) setTimeout(() => countdown(submit, err.retryAfter, wait), 0);
      }
    });
  });
  return card('Log in to Onramp',
    oauthButtons(config.oauth_providers, { next }),
    config.oauth_providers && config.oauth_providers.length ? h('p', { class: 'divider' }, 'or') : null,
    form,
    h('p', { class: 'links' }, h('a', { href: '/forgot-password' }, 'Forgot your password?'), ' · ',
      h('a', { href: withNext('/signup', next) }, 'Create an account')));
}
