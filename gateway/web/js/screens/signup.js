// RegisterPage: sign up with a password or an OAuth provider, invite-aware, and the closed-signup
// message when self-serve is off. After signing up the person is signed in (the grace period lets
// them start) and told to check their email; `next` is kept for after the verification link.
import { h, field, values, clearErrors, showProblem, busy, card } from '../dom.js';
import { get, post, describe } from '../api.js';
import { login } from '../session.js';
import { currentNext, withNext } from '../next.js';
import { navigate } from '../router.js';
import { rememberNext, oauthButtons } from './oauth_callback.js';

export const name = 'signup';
export const title = 'Sign up';

export async function render({ query }) {
  const config = await get('/v1/config/public');
  const invite = query.get('invite') || '';
  const next = currentNext(invite ? `/invites/${invite}` : '/app');
  if (!config.self_serve_enabled && !invite) {
    return card('Sign-up is by invitation',
      h('p', { 'data-testid': 'signup-closed' }, 'This Onramp only lets in people who were invited. Ask your admin for an invite link.'),
      h('p', { class: 'links' }, h('a', { href: '/contact-sales' }, 'Contact sales'), ' · ', h('a', { href: withNext('/login', next) }, 'Log in')));
  }
  const form = h('form', { novalidate: true },
    field({ name: 'display_name', label: 'Your name', autocomplete: 'name' }),
    field({ name: 'email', label: 'Work email', type: 'email', required: true, autocomplete: 'email' }),
    field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password',
      hint: `At least ${config.password_min_length} characters.`, attrs: { minlength: config.password_min_length } }),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Create account'));
  const page = card(invite ? 'Create your account to join' : 'Create your account',
    oauthButtons(config.oauth_providers, { next, invite }),
    config.oauth_providers.length ? h('p', { class: 'divider' }, 'or with your email') : null,
    form,
    h('p', { class: 'links' }, 'Already have an account? ', h('a', { href: withNext('/login', next) }, 'Log in')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { ...values(form), invite_code: invite };
    busy(form, async () => {
      try {
        await post('/v1/auth/signup', body);
      } catch (err) {
        if (err.reason === 'SELF_SERVE_DISABLED') { showProblem(form, err, () => 'Sign-up is by invitation only. Ask your admin for an invite.'); return; }
        if (err.reason === 'EMAIL_ALREADY_REGISTERED_USE_LOGIN') { showProblem(form, err, () => 'That address already has an account. Log in instead.'); return; }
        showProblem(form, err, describe);
        return;
      }
      rememberNext(next);
      try {
        await login(body.email, body.password);
      } catch {
        // Signed up but not signed in (say, verification is needed first): the mail will bring them back.
      }
      navigate(`/verify-email?sent=${encodeURIComponent(body.email)}`);
    });
  });
  return page;
}
