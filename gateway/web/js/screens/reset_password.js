// Reset password from the mailed link.
import { h, field, values, card, mount, onSubmit } from '../dom.js';
import { post, describe } from '../api.js';

export const name = 'reset-password';
export const title = 'Choose a new password';

export async function render({ query }) {
  const token = query.get('token');
  if (!token) {
    return card('Reset your password', h('p', {}, 'This page needs the link from the reset email.'),
      h('p', { class: 'links' }, h('a', { href: '/forgot-password' }, 'Send me a link')));
  }
  const form = h('form', { novalidate: true },
    field({ name: 'new_password', label: 'New password', type: 'password', required: true, autocomplete: 'new-password' }),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Save the new password'));
  onSubmit(form, describe, async () => {
    await post('/v1/auth/password-reset/complete', { token, ...values(form) });
    mount(form, h('p', { class: 'alert alert-ok', role: 'status' }, 'Your password is changed. '), h('a', { class: 'btn btn-primary', href: '/login' }, 'Log in'));
  });
  return card('Choose a new password', form);
}
