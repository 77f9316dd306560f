// Forgot password: always the same answer, so the page does not tell who has an account.
import { h, field, values, card, mount, onSubmit } from '../dom.js';
import { post, describe } from '../api.js';

export const name = 'forgot-password';
export const title = 'Reset your password';

export async function render() {
  const form = h('form', { novalidate: true },
    field({ name: 'email', label: 'Email', type: 'email', required: true, autocomplete: 'email' }),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Send the reset link'));
  const page = card('Reset your password', h('p', {}, 'We will email you a link to choose a new password.'), form,
    h('p', { class: 'links' }, h('a', { href: '/login' }, 'Back to log in')));
  onSubmit(form, describe, async () => {
    await post('/v1/auth/password-reset', values(form));
    mount(form, h('p', { class: 'alert alert-ok', role: 'status' }, 'If that address has an account, a reset link is on its way.'));
  });
  return page;
}
