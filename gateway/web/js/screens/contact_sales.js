// ContactSalesPage: the lead form; a 429 says when to try again and re-enables the button then.
import { h, field, values, clearErrors, showProblem, busy, card, mount } from '../dom.js';
import { post, describe } from '../api.js';
import { countdown } from '../widgets.js';

export const name = 'contact-sales';
export const title = 'Contact sales';

const SIZES = [['', 'Choose…'], ['solo', 'Just me'], ['small', '2–10'], ['medium', '11–50'], ['large', '51–200'], ['enterprise', '201–1000'], ['huge', 'More than 1000']];

export async function render() {
  const wait = h('p', { class: 'hint', 'aria-live': 'polite', 'data-testid': 'retry-after' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Send');
  const form = h('form', { novalidate: true },
    field({ name: 'full_name', label: 'Your name', required: true, autocomplete: 'name' }),
    field({ name: 'email', label: 'Work email', type: 'email', required: true, autocomplete: 'email' }),
    field({ name: 'company', label: 'Company', required: true, autocomplete: 'organization' }),
    field({ name: 'company_size', label: 'Company size', type: 'select', attrs: { options: SIZES } }),
    field({ name: 'message', label: 'How can we help?', type: 'textarea' }),
    submit, wait);
  const done = h('div', { 'aria-live': 'polite' });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = values(form);
    if (!body.company_size) delete body.company_size;
    body.source = '/contact-sales';
    let limited = null;
    // A new attempt replaces the last one's answer: a 429 must not sit under an earlier "Thanks".
    mount(done);
    busy(form, async () => {
      try {
        await post('/v1/sales-leads', body);
        mount(done, h('p', { class: 'alert alert-ok', role: 'status', 'data-testid': 'lead-sent' }, 'Thanks! Our team will get back to you within one business day.'));
        form.reset();
      } catch (err) {
        showProblem(form, err, describe);
        if (err.status === 429) limited = err.retryAfter || 60;
      }
    }).then(() => { if (limited) countdown(submit, limited, wait); });
  });
  return card('Talk to sales', h('p', {}, 'Tell us about your team and we will be in touch.'), done, form);
}
