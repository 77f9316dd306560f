// SelectPlanPage: plan cards; seats between the member count and the plan's maximum; a trial
// without a card where the plan allows it, else Stripe Checkout.
import { h, mount } from '../dom.js';
import { get, post, describe } from '../api.js';
import { billingSummary, state } from '../session.js';
import { navigate } from '../router.js';
import { planCard } from './landing.js';
import { countdown } from '../widgets.js';

export const name = 'select-plan';
export const title = 'Choose a plan';

function seatLimit(plan) {
  const seats = (plan.limits || []).find((l) => l.field === 'seats' || l.field === 'members');
  return seats && !seats.unlimited && seats.max ? seats.max : null;
}

export async function render({ tenant }) {
  const id = tenant.tenant.id;
  const [{ plans }, members, summary] = await Promise.all([
    get('/v1/plans/public'),
    get(`/v1/tenants/${id}/members?page_size=100`),
    billingSummary(id, { fresh: true }).catch(() => null),
  ]);
  const memberCount = Math.max(1, members.members.length);
  const message = h('div', { class: 'form-message', 'aria-live': 'polite' });
  const choose = async (plan, button, seatsInput, trial) => {
    mount(message);
    button.disabled = true;
    try {
      if (trial) {
        await post('/v1/billing/start', { tenant_id: id, plan_id: plan.id });
        state.billing = null;
        navigate(`/payment-pending?tenant=${encodeURIComponent(id)}`);
        return;
      }
      const seats = seatsInput ? Number(seatsInput.value) : memberCount;
      const checkout = await post('/v1/billing/checkout', { tenant_id: id, plan_id: plan.id, seats });
      window.location.assign(checkout.checkout_url);
    } catch (err) {
      mount(message, h('p', { class: 'alert alert-error', role: 'alert' }, describe(err)));
      if (err.status === 429 && err.retryAfter) countdown(button, err.retryAfter, message);
      else button.disabled = false;
    }
  };
  const cards = plans.map((plan) => {
    const current = summary && summary.plan && summary.plan.id === plan.id;
    const max = seatLimit(plan);
    const paid = plan.kind === 'paid';
    const trial = paid && plan.trial_days > 0 && !plan.trial_requires_card;
    const seatsInput = paid && plan.per_seat
      ? h('input', { id: `seats-${plan.code}`, name: 'seats', type: 'number', min: memberCount, max: max || null, value: memberCount, inputmode: 'numeric' })
      : null;
    const buttons = [];
    if (current) {
      buttons.push(h('button', { type: 'button', class: 'btn btn-block', disabled: true }, 'Current plan'));
    } else {
      if (trial) {
        const b = h('button', { type: 'button', class: 'btn btn-primary btn-block', 'data-trial': plan.code }, `Start ${plan.trial_days}-day trial`);
        b.addEventListener('click', () => choose(plan, b, null, true));
        buttons.push(b);
      }
      const b = h('button', { type: 'button', class: `btn ${trial ? '' : 'btn-primary '}btn-block`, 'data-choose': plan.code },
        paid ? `Subscribe to ${plan.name}` : `Start ${plan.name}`);
      b.addEventListener('click', () => choose(plan, b, seatsInput, !paid));
      buttons.push(b);
    }
    return planCard(plan, h('div', { class: 'plan-action' },
      seatsInput && !current ? h('div', { class: 'field field-inline' },
        h('label', { for: seatsInput.id }, 'Seats'), seatsInput,
        h('p', { class: 'hint' }, `At least ${memberCount} (your members)${max ? `, at most ${max}` : ''}.`)) : null,
      buttons), { current });
  });
  return h('div', {},
    h('h1', {}, 'Choose a plan'),
    h('p', { class: 'lead' }, `For ${tenant.tenant.name}. You can change plans later.`),
    message,
    h('div', { class: 'plans' }, cards),
    h('p', { class: 'links' }, 'Larger team? ', h('a', { href: '/contact-sales' }, 'Talk to sales')));
}
