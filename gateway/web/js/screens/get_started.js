// NextStepCard + SetupChecklist: the one thing to do next, then every step with its state, the
// step actions, and "dismiss the rest".
import { h, mount } from '../dom.js';
import { get, patch, post, describe } from '../api.js';

export const name = 'get-started';
export const title = 'Get started';

const STATE_TEXT = { done: 'Done', pending: 'To do', unknown: 'Checking…', dismissed: 'Dismissed' };

export async function render({ tenant }) {
  const id = tenant.tenant.id;
  const q = `tenant_id=${encodeURIComponent(id)}`;
  const root = h('section', {});
  const draw = (list) => {
    const next = list.steps.find((s) => s.id === list.next_step_id);
    const message = h('div', { class: 'form-message', 'aria-live': 'polite' });
    const act = async (step, action) => {
      try {
        draw(await patch(`/v1/onboarding/steps/${encodeURIComponent(step.id)}?${q}`, { action }));
      } catch (err) {
        mount(message, h('p', { class: 'alert alert-error', role: 'alert' }, describe(err)));
      }
    };
    const stepAction = (step) => {
      if (step.state === 'done' || step.state === 'dismissed') return null;
      return h('span', { class: 'step-actions' },
        h('a', { class: 'btn btn-small', href: step.action_path }, 'Open'),
        step.user_completable && !step.data_required ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => act(step, 'complete') }, 'Mark done') : null,
        h('button', { type: 'button', class: 'btn btn-small btn-link', onclick: () => act(step, 'dismiss') }, 'Dismiss'));
    };
    mount(root,
      h('h1', {}, `Get started with ${tenant.tenant.name}`),
      message,
      next ? h('div', { class: 'panel next-step', 'data-testid': 'next-step', 'data-step': next.id },
        h('p', { class: 'eyebrow' }, 'Next step'),
        h('h2', {}, next.title), h('p', {}, next.description),
        h('a', { class: 'btn btn-primary', href: next.action_path }, next.title))
        : h('div', { class: 'panel next-step' }, h('h2', {}, list.finished ? 'You are all set' : 'Nothing left to do'),
          h('p', {}, 'Your workspace is ready.')),
      h('div', { class: 'panel' },
        h('h2', {}, `Checklist · ${list.done_count} of ${list.steps.length} done`),
        h('ul', { class: 'checklist' }, list.steps.map((step) => h('li', { class: `step step-${step.state}`, 'data-step': step.id, 'data-state': step.state },
          h('span', { class: 'step-mark', 'aria-hidden': 'true' }, step.state === 'done' ? '✓' : step.state === 'dismissed' ? '–' : '○'),
          h('span', { class: 'step-text' }, h('strong', {}, step.title), h('span', { class: 'visually-hidden' }, ` (${STATE_TEXT[step.state] || step.state})`),
            h('span', { class: 'step-state' }, STATE_TEXT[step.state] || step.state)),
          stepAction(step)))),
        !list.rest_dismissed && !list.finished ? h('button', {
          type: 'button', class: 'btn btn-link', 'data-action': 'dismiss-rest',
          onclick: async () => {
            try { draw(await post(`/v1/onboarding/dismiss-rest?${q}`, {})); } catch (err) { mount(message, h('p', { class: 'alert alert-error', role: 'alert' }, describe(err))); }
          },
        }, 'Dismiss the rest') : null));
  };
  draw(await get(`/v1/onboarding?${q}`));
  return root;
}
