// The development mailbox (`onramp up` only): every mail the stack sent, with its links.
import { h, card } from '../dom.js';
import { get } from '../api.js';

export const name = 'mailbox';
export const title = 'Mailbox';

export async function render() {
  let answer;
  try {
    answer = await get('/v1/dev/mailbox');
  } catch (err) {
    if (err.status === 404) {
      return card('Mailbox', h('p', {}, 'The mailbox exists only in development (`onramp up`). In production, mail goes to real inboxes.'));
    }
    throw err;
  }
  const mails = (answer.mails || []).slice().reverse();
  return h('section', { class: 'card card-wide' }, h('h1', {}, 'Mailbox'),
    mails.length ? h('ul', { class: 'mails' }, mails.map((m) => h('li', { class: 'mail' },
      h('p', {}, h('strong', {}, m.subject)),
      h('p', { class: 'hint' }, `To ${m.to} · ${new Date(m.received_at).toLocaleString()}`),
      h('pre', {}, m.text),
      (m.links || []).length ? h('ul', {}, m.links.map((l) => h('li', {}, h('a', { href: l }, l)))) : null)))
      : h('p', {}, 'No mail yet. Sign up to get one.'));
}
