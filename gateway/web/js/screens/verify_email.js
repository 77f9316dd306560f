// VerifyEmailPage: "check your email" after sign-up, and the mail link's landing, which verifies
// once (the token leaves the address bar before the request, so a reload does not fire it again).
import { h, card } from '../dom.js';
import { post, refreshSession } from '../api.js';
import { currentUser, forget } from '../session.js';
import { takeNext } from './oauth_callback.js';
import { resendButton, errorPanel } from '../widgets.js';

export const name = 'verify-email';
export const title = 'Verify your email';

const fired = new Set();

export async function render({ query }) {
  const token = query.get('token');
  if (!token) {
    const sent = query.get('sent');
    const user = await currentUser().catch(() => null);
    if (user && user.email_verified) {
      // Nothing to wait for (an address verified another way, or earlier).
      return card('Your email is verified',
        h('p', { 'data-testid': 'verified' }, 'You are all set.'),
        h('a', { class: 'btn btn-primary btn-block', href: takeNext('/app') }, 'Continue'));
    }
    return card('Check your email',
      h('p', { 'data-testid': 'check-email' }, 'We sent a verification link to ', h('strong', {}, sent || (user && user.email) || 'your address'), '. Open it to confirm your address.'),
      user ? resendButton() : null,
      user ? h('p', { class: 'links' }, h('a', { href: '/app' }, 'Continue to Onramp')) : h('p', { class: 'links' }, h('a', { href: '/login' }, 'Log in')));
  }
  window.history.replaceState({}, '', '/verify-email');
  if (fired.has(token)) return null;
  fired.add(token);
  let answer;
  try {
    answer = await post('/v1/auth/verify-email', { token });
  } catch (err) {
    const expired = err.status === 400 || err.status === 404 || err.status === 410;
    return card('This link did not work',
      expired ? h('p', {}, 'The link is used up or expired. Log in and send yourself a new one.') : errorPanel(err, null),
      h('p', { class: 'links' }, h('a', { href: '/login' }, 'Log in')));
  }
  // A signed-in browser gets a session whose token says "verified".
  await refreshSession();
  forget();
  const user = await currentUser({ fresh: true }).catch(() => null);
  const next = takeNext('/app');
  return card('Your email is verified',
    h('p', { 'data-testid': 'verified' }, answer && answer.already_verified ? 'It was already verified. You are all set.' : 'Thanks, your address is confirmed.'),
    h('a', { class: 'btn btn-primary btn-block', href: user ? next : `/login?next=${encodeURIComponent(next)}` }, 'Continue'));
}
