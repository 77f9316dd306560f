// BillingPage: the subscription, the trial pill, usage per limit, and Manage billing (the Stripe
// portal; disabled with the reason when the workspace has no billing account).
import { h, mount, date } from '../dom.js';
import { get, post, describe } from '../api.js';
import { billingSummary } from '../session.js';
import { trialPill } from '../widgets.js';

export const name = 'billing';
export const title = 'Billing';

const NO_ACCOUNT = 'Manage billing opens once the workspace pays by card. Trials and free plans have nothing to manage yet.';

async function usage(tenantId, plan) {
  if (!plan) return [];
  const limits = (plan.limits || []).filter((l) => l.max !== null && l.max !== undefined || l.unlimited);
  const rows = await Promise.all(limits.map(async (l) => {
    try {
      const u = await get(`/v1/usage/${encodeURIComponent(l.field)}?tenant_id=${encodeURIComponent(tenantId)}`);
      return { ...l, used: u.used, limit: u.limit };
    } catch {
      return null;
    }
  }));
  return rows.filter(Boolean);
}

function bar(row) {
  const max = typeof row.limit === 'number' ? row.limit : null;
  const label = max === null ? `${row.used} ${row.display_name} (unlimited)` : `${row.used} of ${max} ${row.display_name}`;
  return h('div', { class: 'usage', 'data-usage': row.field },
    h('p', {}, label),
    max === null ? null : h('progress', { max, value: Math.min(row.used, max), 'aria-label': label }));
}

export async function render({ tenant }) {
  const id = tenant.tenant.id;
  const summary = await billingSummary(id, { fresh: true });
  if (!summary || !summary.plan) {
    return h('section', {}, h('h1', {}, 'Billing'),
      h('p', {}, 'No plan yet.'), h('a', { class: 'btn btn-primary', href: '/account/billing/select-plan' }, 'Choose a plan'));
  }
  const { plans } = await get('/v1/plans/public');
  const plan = plans.find((p) => p.id === summary.plan.id);
  const rows = await usage(id, plan);
  const note = h('p', { class: 'hint', id: 'portal-note', 'aria-live': 'polite' }, summary.has_billing_account ? '' : NO_ACCOUNT);
  const portal = h('button', {
    type: 'button', class: 'btn', 'data-action': 'portal', disabled: !summary.has_billing_account, 'aria-describedby': 'portal-note',
  }, 'Manage billing');
  portal.addEventListener('click', async () => {
    portal.disabled = true;
    try {
      const answer = await post('/v1/billing/portal', { tenant_id: id });
      window.location.assign(answer.portal_url);
    } catch (err) {
      mount(note, err.reason === 'NO_BILLING_ACCOUNT' ? NO_ACCOUNT : describe(err));
      portal.disabled = err.reason === 'NO_BILLING_ACCOUNT';
    }
  });
  return h('section', {},
    h('h1', {}, 'Billing'),
    h('div', { class: 'panel' },
      // The pill of a paid plan is the plan's name again; here only a trial or a problem is news.
      h('h2', {}, summary.plan.name, ' ', summary.trial_state === 'paid' ? null : trialPill(summary)),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Status'), h('dd', { 'data-testid': 'billing-status' }, summary.status.replace(/_/g, ' ')),
        h('dt', {}, 'Seats paid for'), h('dd', { 'data-testid': 'billing-seats' }, summary.seats ? String(summary.seats) : 'Not counted on this plan'),
        summary.trial_ends_at ? [h('dt', {}, 'Trial ends'), h('dd', {}, date(summary.trial_ends_at))] : null,
        summary.current_period_end ? [h('dt', {}, summary.cancel_at_period_end ? 'Ends' : 'Renews'), h('dd', {}, date(summary.current_period_end))] : null,
        h('dt', {}, 'Billed through'), h('dd', {}, summary.provider === 'manual' ? 'Invoice (manual)' : 'Stripe')),
      h('p', { class: 'actions' }, portal, h('a', { class: 'btn', href: '/account/billing/select-plan' }, 'Change plan')), note),
    rows.length ? h('div', { class: 'panel' }, h('h2', {}, 'Usage'), rows.map(bar)) : null);
}
