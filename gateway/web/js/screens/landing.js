// PricingPage: the landing page with the public plans.
import { h, money } from '../dom.js';
import { get } from '../api.js';

export const name = 'landing';
export const title = 'Pricing';

export function planPrice(plan) {
  if (plan.kind !== 'paid' || !plan.price_amount_minor) return 'Free';
  const per = plan.per_seat ? ' per seat' : '';
  const interval = plan.interval ? ` / ${plan.interval}` : '';
  return `${money(plan.price_amount_minor, plan.currency)}${per}${interval}`;
}

export function planCard(plan, action, { current = false } = {}) {
  return h('article', { class: `plan${current ? ' plan-current' : ''}`, 'data-plan': plan.code },
    h('h3', {}, plan.name, current ? h('span', { class: 'tag' }, 'Current plan') : null),
    h('p', { class: 'price' }, planPrice(plan)),
    plan.description ? h('p', {}, plan.description) : null,
    h('ul', { class: 'highlights' }, (plan.highlights || []).map((line) => h('li', {}, line))),
    plan.trial_days ? h('p', { class: 'hint' }, `${plan.trial_days}-day free trial${plan.trial_requires_card ? '' : ', no card needed'}`) : null,
    action);
}

export async function render() {
  const { plans } = await get('/v1/plans/public');
  return h('div', { class: 'landing' },
    h('section', { class: 'hero' },
      h('h1', {}, 'Get your team on board in minutes'),
      h('p', { class: 'lead' }, 'Sign up, create a workspace, pick a plan and invite your team.'),
      h('p', { class: 'actions' },
        h('a', { class: 'btn btn-primary', href: '/signup' }, 'Start for free'),
        h('a', { class: 'btn', href: '/login' }, 'Log in'))),
    h('section', { class: 'pricing', 'aria-labelledby': 'pricing-title' },
      h('h2', { id: 'pricing-title' }, 'Pricing'),
      h('div', { class: 'plans' }, plans.map((plan) => planCard(plan,
        h('a', { class: 'btn btn-primary', href: `/signup?plan=${encodeURIComponent(plan.code)}` },
          plan.trial_days ? 'Start trial' : 'Get started')))),
      h('p', { class: 'links' }, 'Need more? ', h('a', { href: '/contact-sales' }, 'Talk to sales'))));
}
