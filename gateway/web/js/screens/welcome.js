// WelcomeRouter: the first workspace. The form carries one Idempotency-Key for its whole life, so
// a double click (or a retry after a lost answer) makes one workspace.
import { h, field, values, clearErrors, showProblem, busy, card, newKey } from '../dom.js';
import { post, describe } from '../api.js';
import { chooseTenant, tenants } from '../session.js';
import { navigate } from '../router.js';

export const name = 'welcome';
export const title = 'Create your workspace';

function slugify(text) {
  return text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
}

export async function render({ user }) {
  const key = newKey();
  const form = h('form', { novalidate: true, 'data-idempotency-key': key },
    field({ name: 'name', label: 'Workspace name', required: true, autocomplete: 'organization' }),
    field({ name: 'slug', label: 'Address', hint: 'Lowercase letters, digits and dashes.', required: true }),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Create workspace'));
  const nameInput = form.querySelector('[name=name]');
  const slugInput = form.querySelector('[name=slug]');
  let slugTouched = false;
  slugInput.addEventListener('input', () => { slugTouched = true; });
  nameInput.addEventListener('input', () => { if (!slugTouched) slugInput.value = slugify(nameInput.value); });
  let inFlight = null;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (inFlight) return;
    clearErrors(form);
    const body = values(form);
    inFlight = busy(form, async () => {
      try {
        const created = await post('/v1/tenants', body, { headers: { 'Idempotency-Key': key } });
        chooseTenant(created.tenant.id);
        await tenants({ fresh: true });
        navigate(created.tenant.state === 'active' ? '/get-started' : '/account/billing/select-plan');
      } catch (err) {
        showProblem(form, err, describe);
      } finally {
        inFlight = null;
      }
    });
  });
  const first = (user.display_name || '').split(' ')[0];
  return card(first ? `Welcome, ${first}` : 'Welcome to Onramp',
    h('p', {}, 'Create a workspace for your team. You can invite people next.'), form);
}
