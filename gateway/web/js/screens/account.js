// Account: profile, email verification, log out, log out everywhere.
import { h, field, values, mount, onSubmit } from '../dom.js';
import { patch, post, describe } from '../api.js';
import { logout, forget } from '../session.js';
import { navigate } from '../router.js';
import { resendButton } from '../widgets.js';

export const name = 'account';
export const title = 'Account';

export async function render({ user }) {
  const form = h('form', { novalidate: true },
    field({ name: 'display_name', label: 'Name', value: user.display_name, autocomplete: 'name' }),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save'));
  const saved = h('p', { class: 'hint', 'aria-live': 'polite' });
  form.append(saved);
  onSubmit(form, describe, async () => {
    await patch('/v1/users/me', values(form));
    forget();
    mount(saved, 'Saved.');
  });
  const sessions = h('div', { class: 'form-message', 'aria-live': 'polite' });
  return h('section', {},
    h('h1', {}, 'Account'),
    h('div', { class: 'panel' }, h('h2', {}, 'Profile'), h('p', {}, 'Email: ', h('strong', {}, user.email)), form),
    h('div', { class: 'panel', id: 'verify' }, h('h2', {}, 'Email address'),
      user.email_verified ? h('p', { 'data-testid': 'email-verified' }, 'Verified.') : [h('p', {}, `Not verified yet. Open the link we sent to ${user.email}.`), resendButton()]),
    h('div', { class: 'panel' }, h('h2', {}, 'Sessions'), sessions,
      h('p', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', 'data-action': 'logout', onclick: async () => { await logout(); navigate('/login'); } }, 'Log out'),
        h('button', {
          type: 'button', class: 'btn', 'data-action': 'logout-everywhere',
          onclick: async () => {
            try {
              await post('/v1/auth/logout-everywhere', {});
              await logout().catch(() => null);
              navigate('/login');
            } catch (err) { mount(sessions, h('p', { class: 'alert alert-error', role: 'alert' }, describe(err))); }
          },
        }, 'Log out everywhere'))));
}
