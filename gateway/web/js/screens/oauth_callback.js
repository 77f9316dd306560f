// OAuthCallbackPage: the provider sends the browser back here with `code` and `state`; the gateway
// checks them with the binding cookie and answers with the session in cookies only.
import { h, card } from '../dom.js';
import { post, COOKIE_SESSION } from '../api.js';
import { forget } from '../session.js';
import { safeNext } from '../next.js';
import { navigate } from '../router.js';
import { errorPanel } from '../widgets.js';

export const name = 'oauth-callback';
export const title = 'Signing you in';

const NEXT_KEY = 'onramp.next';
const OAUTH_KEY = 'onramp.oauth';

/** Keeps `next` for after a round trip through a mail link or a provider. */
export function rememberNext(next) {
  if (next && next !== '/app') localStorage.setItem(NEXT_KEY, next);
}

/** The remembered `next` (once), made safe. */
export function takeNext(fallback = '/app') {
  const next = localStorage.getItem(NEXT_KEY);
  localStorage.removeItem(NEXT_KEY);
  return safeNext(next, fallback);
}

export function oauthButtons(providers, { next, invite = '' }) {
  if (!providers || !providers.length) return null;
  const redirect = `${window.location.origin}/oauth/callback`;
  return h('div', { class: 'oauth' }, providers.map((p) => h('a', {
    class: 'btn btn-block',
    'data-provider': p.id,
    'data-external': 'true',
    href: `/v1/auth/oauth/${encodeURIComponent(p.id)}/start?redirect_uri=${encodeURIComponent(redirect)}`,
    onclick: () => {
      sessionStorage.setItem(OAUTH_KEY, JSON.stringify({ provider: p.id, invite }));
      rememberNext(next);
    },
  }, `Continue with ${p.display_name}`)));
}

export async function render({ query }) {
  const saved = JSON.parse(sessionStorage.getItem(OAUTH_KEY) || '{}');
  const provider = saved.provider || query.get('provider') || '';
  const code = query.get('code');
  const state = query.get('state');
  if (query.get('error') || !code || !state || !provider) {
    return card('Sign-in was not completed',
      h('p', {}, query.get('error_description') || 'The provider did not sign you in. Try again, or use your email and password.'),
      h('p', { class: 'links' }, h('a', { href: '/login' }, 'Back to log in')));
  }
  // Single use: the code must not be sent twice (reloads, back button).
  window.history.replaceState({}, '', '/oauth/callback');
  sessionStorage.removeItem(OAUTH_KEY);
  try {
    await post(`/v1/auth/oauth/${encodeURIComponent(provider)}/callback`,
      { code, state, invite_code: saved.invite || '' }, { headers: COOKIE_SESSION });
  } catch (err) {
    return card('Sign-in was not completed', errorPanel(err, null), h('p', { class: 'links' }, h('a', { href: '/login' }, 'Back to log in')));
  }
  forget();
  navigate(takeNext(), { replace: true });
  return null;
}
