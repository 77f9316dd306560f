// The first-setup step's form; a 422 naming a field shows beside that field.
import { h, field, values, onSubmit } from '../dom.js';
import { get, patch, describe } from '../api.js';
import { navigate } from '../router.js';

export const name = 'setup';
export const title = 'Set up your workspace';

const SIZES = [['', 'Choose…'], ['solo', 'Just me'], ['small', '2–10'], ['medium', '11–50'], ['large', '51–200'], ['enterprise', '201–1000'], ['huge', 'More than 1000']];

export async function render({ tenant }) {
  const id = tenant.tenant.id;
  const q = `tenant_id=${encodeURIComponent(id)}`;
  const list = await get(`/v1/onboarding?${q}`);
  const step = list.steps.find((s) => s.id === 'first_setup');
  const saved = (step && step.data && step.data.first_setup) || {};
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const form = h('form', { novalidate: true },
    field({ name: 'company_name', label: 'Company name', value: saved.company_name || tenant.tenant.name, required: true }),
    field({ name: 'team_size', label: 'Team size', type: 'select', value: saved.team_size || '', attrs: { options: SIZES } }),
    field({ name: 'use_case', label: 'What will you use it for?', type: 'textarea', value: saved.use_case || '' }),
    field({ name: 'time_zone', label: 'Time zone', value: saved.time_zone || zone }),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save'));
  onSubmit(form, describe, async () => {
    await patch(`/v1/onboarding/steps/first_setup?${q}`, { action: 'complete', data: { first_setup: values(form) } });
    navigate('/get-started');
  });
  return h('section', {}, h('h1', {}, 'Set up your workspace'),
    h('p', { class: 'lead' }, 'Tell us about your team so we can tailor Onramp.'), h('div', { class: 'panel' }, form));
}
