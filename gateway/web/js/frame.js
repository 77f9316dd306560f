// The signed-in frame: top bar (product, workspace switcher, trial pill, account), the left
// navigation (a menu button on narrow screens), the verification banner during the grace period,
// and the verification wall after it.

import { h, mount, date } from './dom.js';
import { navigate } from './router.js';
import { state, chooseTenant, tenants, billingSummary, pastGrace, logout } from './session.js';
import { trialPill, resendButton } from './widgets.js';

const NAV = [
  ['/get-started', 'Get started'],
  ['/settings/members', 'Members'],
  ['/billing', 'Billing'],
  ['/settings/payouts', 'Payouts'],
  ['/account', 'Account'],
];

export async function signedInFrame(user, content) {
  const list = state.tenants || (await tenants().catch(() => []));
  const tenantId = state.tenantId;
  let summary = null;
  if (tenantId) summary = await billingSummary(tenantId).catch(() => null);
  const switcher = list.length
    ? h('label', { class: 'switcher' }, h('span', { class: 'visually-hidden' }, 'Workspace'),
      h('select', {
        'data-testid': 'workspace-switcher',
        onchange: (e) => {
          if (e.target.value === '__new') { navigate('/welcome?another=1'); return; }
          chooseTenant(e.target.value);
          navigate('/get-started');
        },
      },
      list.map((t) => h('option', { value: t.tenant.id, selected: t.tenant.id === tenantId }, t.tenant.name)),
      h('option', { value: '__new' }, '+ New workspace')))
    : null;
  const navList = h('ul', { id: 'nav-list' }, NAV.map(([href, text]) => h('li', {},
    h('a', { href, 'aria-current': window.location.pathname.startsWith(href) ? 'page' : null }, text))));
  const menuButton = h('button', {
    type: 'button', class: 'btn menu-button', 'aria-expanded': 'false', 'aria-controls': 'nav-list',
    onclick: (e) => {
      const open = e.currentTarget.getAttribute('aria-expanded') !== 'true';
      e.currentTarget.setAttribute('aria-expanded', String(open));
      navList.classList.toggle('open', open);
    },
  }, 'Menu');
  const top = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '/get-started' }, 'Onramp'),
    switcher,
    h('div', { class: 'topbar-end' }, trialPill(summary),
      h('a', { class: 'account-link', href: '/account' }, user.display_name || user.email)));
  return h('div', { class: 'frame' },
    h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
    top,
    banner(user),
    h('div', { class: 'frame-body' },
      h('nav', { class: 'sidenav', 'aria-label': 'Main' }, menuButton, navList),
      h('main', { id: 'main', class: 'content', tabindex: '-1' }, content)));
}

/** "Verify your address" under the top bar while the grace period runs. */
function banner(user) {
  if (!user || user.email_verified) return null;
  const until = user.verification_grace_ends_at ? ` by ${date(user.verification_grace_ends_at)}` : '';
  return h('div', { class: 'banner', role: 'status', 'data-testid': 'verification-banner' },
    h('p', {}, `Please verify ${user.email}${until}. We sent you a link.`), resendButton());
}

/** The wall after the grace period: the address, resend with its cooldown, change account. */
export function verificationWall(user) {
  return h('main', { id: 'main', class: 'public' },
    h('section', { class: 'card', 'data-testid': 'verification-wall' },
      h('h1', {}, 'Verify your email to continue'),
      h('p', {}, 'We sent a link to ', h('strong', {}, user.email), '. Open it to keep using Onramp.'),
      resendButton(),
      h('p', { class: 'links' }, h('button', {
        type: 'button', class: 'btn btn-link',
        onclick: async () => { await logout(); navigate('/login'); },
      }, 'Use a different account'))));
}

export function needsWall(user) {
  return pastGrace(user);
}

export function publicFrame(content) {
  return h('main', { id: 'main', class: 'public', tabindex: '-1' },
    h('a', { class: 'brand brand-public', href: '/' }, 'Onramp'), content);
}

export { mount };
