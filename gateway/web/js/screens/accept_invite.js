// AcceptInvitePage: who invited you to what (the address masked); sign up, log in or use a
// provider, verify the address from the mail (invite codes no longer verify it), then accept.
import { h, card, mount } from '../dom.js';
import { get, post, describe } from '../api.js';
import { currentUser, chooseTenant, tenants, logout } from '../session.js';
import { navigate } from '../router.js';
import { withNext } from '../next.js';
import { resendButton } from '../widgets.js';

export const name = 'accept-invite';
export const title = 'Join a workspace';

export async function render({ params }) {
  const code = params.code;
  const here = `/invites/${encodeURIComponent(code)}`;
  let invite;
  try {
    invite = await get(`/v1/invites/${encodeURIComponent(code)}`);
  } catch (err) {
    if (err.status === 404 || err.status === 400) {
      return card('This invite is no longer valid', h('p', {}, 'It may have expired, been revoked, or already been used. Ask for a new one.'),
        h('a', { class: 'btn btn-primary', href: '/app' }, 'Go to Onramp'));
    }
    throw err;
  }
  const intro = h('p', { 'data-testid': 'invite-summary' },
    `${invite.inviter_display_name || 'A teammate'} invited `, h('strong', {}, invite.masked_email),
    ` to join ${invite.tenant_name} as ${invite.role}.`);
  const user = await currentUser().catch(() => null);
  if (!user) {
    return card(`Join ${invite.tenant_name}`, intro,
      h('a', { class: 'btn btn-primary btn-block', href: `/signup?invite=${encodeURIComponent(code)}&next=${encodeURIComponent(here)}` }, 'Create an account'),
      h('p', { class: 'links' }, 'Already have one? ', h('a', { href: withNext('/login', here) }, 'Log in')));
  }
  const message = h('div', { class: 'form-message', 'aria-live': 'polite' });
  const accept = h('button', { type: 'button', class: 'btn btn-primary btn-block', 'data-action': 'accept' }, `Join ${invite.tenant_name}`);
  accept.addEventListener('click', async () => {
    accept.disabled = true;
    try {
      const done = await post(`/v1/invites/${encodeURIComponent(code)}/accept`, {});
      if (done.tenant) chooseTenant(done.tenant.id);
      await tenants({ fresh: true });
      navigate('/get-started');
    } catch (err) {
      accept.disabled = false;
      if (err.reason === 'EMAIL_VERIFICATION_REQUIRED') {
        mount(message, h('p', { class: 'alert alert-error', role: 'alert' }, 'Verify your email first: open the link we sent you, then come back here.'), resendButton());
      } else if (err.status === 409) {
        mount(message, h('p', { class: 'alert alert-error', role: 'alert' }, `This invite is for ${invite.masked_email}, and you are signed in as ${user.email}.`),
          h('button', { type: 'button', class: 'btn', onclick: async () => { await logout(); navigate(withNext('/login', here)); } }, 'Switch account'));
      } else {
        mount(message, h('p', { class: 'alert alert-error', role: 'alert' }, describe(err)));
      }
    }
  });
  return card(`Join ${invite.tenant_name}`, intro,
    user.email_verified ? null : h('p', { class: 'alert alert-warn' }, 'Verify your email before joining: open the link we sent to ', h('strong', {}, user.email), '.'),
    message, accept,
    h('p', { class: 'links' }, `Signed in as ${user.email}. `, h('button', { type: 'button', class: 'btn btn-link', onclick: async () => { await logout(); navigate(withNext('/login', here)); } }, 'Not you?')));
}
