// The app's entry: the route table, the frame around each screen, and the screens for the API's
// answers that can happen anywhere (401 → log in with `next`, 403 verification wall, 402 payment
// pending, 403 limit → upgrade prompt, anything else → the error panel with retry).

import { h, mount } from './dom.js';
import { route, match, navigate, start, setScreen, shown, skeleton } from './router.js';
import { hooks, ApiError } from './api.js';
import { currentUser, currentTenant, state } from './session.js';
import { signedInFrame, publicFrame, verificationWall, needsWall } from './frame.js';
import { errorPanel, upgradePrompt } from './widgets.js';
import { withNext } from './next.js';

// Every screen by path, grouped by who may see it (`public`, a signed-in `user`, a member of a
// `tenant`) and whether it draws without the app's frame (`bare`). A screen is a module of
// ./screens, loaded on first use.
const SCREENS = [
  [{ access: 'public' }, {
    '/': 'landing', '/pricing': 'landing', '/signup': 'signup', '/login': 'login',
    '/oauth/callback': 'oauth_callback', '/verify-email': 'verify_email',
    '/forgot-password': 'forgot_password', '/reset-password': 'reset_password',
    '/invites/:code': 'accept_invite', '/contact-sales': 'contact_sales', '/dev/mailbox': 'mailbox',
  }],
  [{ access: 'user', bare: true }, { '/app': 'home', '/welcome': 'welcome' }],
  [{ access: 'user' }, { '/account': 'account', '/account/verify-email': 'account' }],
  [{ access: 'tenant' }, {
    '/get-started': 'get_started', '/onboarding/setup': 'setup', '/settings/members': 'members',
    '/settings/payouts': 'payouts', '/billing': 'billing',
    '/account/billing/select-plan': 'select_plan',
  }],
  [{ access: 'tenant', bare: true }, { '/billing/success': 'payment_pending', '/payment-pending': 'payment_pending' }],
];
for (const [options, screens] of SCREENS) {
  for (const [path, name] of Object.entries(screens)) route(path, () => import(`./screens/${name}.js`), options);
}

hooks.onSignedOut = () => {
  const here = window.location.pathname + window.location.search;
  navigate(withNext('/login', here), { replace: true });
};

const root = () => document.getElementById('app');
let generation = 0;

async function renderPath(pathname) {
  const mine = ++generation;
  const found = match(pathname);
  const query = new URLSearchParams(window.location.search);
  if (!found) {
    const notFound = await import('./screens/not_found.js');
    return show(mine, notFound, { query, params: {} }, 'public');
  }
  const module = await found.load();
  const ctx = { params: found.params, query };
  if (found.access === 'public') return show(mine, module, ctx, 'public');
  let user;
  try {
    user = await currentUser();
  } catch (err) {
    return showError(mine, err);
  }
  if (!user) {
    navigate(withNext('/login', pathname + window.location.search), { replace: true });
    return undefined;
  }
  ctx.user = user;
  if (needsWall(user)) {
    setScreen('verification-wall', 'Verify your email');
    if (mine === generation) { mount(root(), verificationWall(user)); shown(); }
    return undefined;
  }
  if (found.access === 'tenant') {
    try {
      ctx.tenant = await currentTenant();
    } catch (err) {
      return showError(mine, err, user);
    }
    if (!ctx.tenant) {
      navigate('/welcome', { replace: true });
      return undefined;
    }
  }
  return show(mine, module, ctx, found.bare ? 'bare' : 'app');
}

async function show(mine, module, ctx, frame) {
  setScreen(module.name, module.title);
  const wrap = (node) => (frame === 'public' || frame === 'bare'
    ? Promise.resolve(publicFrame(node))
    : signedInFrame(ctx.user, node));
  if (frame === 'app') mount(root(), await wrap(skeleton()));
  let node;
  try {
    node = await module.render(ctx);
  } catch (err) {
    if (mine !== generation) return undefined;
    return showError(mine, err, ctx.user, frame);
  }
  if (mine !== generation || !node) return undefined;
  mount(root(), await wrap(node));
  shown();
  const heading = root().querySelector('h1');
  if (heading && module.name !== 'landing') {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
  return undefined;
}

async function showError(mine, err, user, frame = 'public') {
  if (mine !== generation) return undefined;
  if (err instanceof ApiError && err.reason === 'EMAIL_VERIFICATION_REQUIRED' && user) {
    setScreen('verification-wall', 'Verify your email');
    mount(root(), verificationWall(user));
    shown();
    return undefined;
  }
  if (err instanceof ApiError && err.status === 402 && state.tenantId) {
    navigate(`/payment-pending?tenant=${encodeURIComponent(state.tenantId)}`, { replace: true });
    return undefined;
  }
  if (err instanceof ApiError && err.status === 401) return undefined;
  const panel = err instanceof ApiError && err.reason === 'LIMIT_EXCEEDED'
    ? upgradePrompt(err)
    : errorPanel(err, () => renderPath(window.location.pathname));
  setScreen(err instanceof ApiError && err.reason === 'LIMIT_EXCEEDED' ? 'upgrade' : 'error', 'Something went wrong');
  const content = h('section', { class: 'card' }, panel);
  mount(root(), frame === 'app' && user ? await signedInFrame(user, content) : publicFrame(content));
  shown();
  return undefined;
}

start(renderPath);
