// Members and invites: bulk invite with a result per row, roles, revoke, remove, leave; the API's
// last-owner protection shows as a message, and the sole owner's own "leave" is disabled.
import { h, mount, date, field, clearErrors, showProblem, busy } from '../dom.js';
import { get, post, patch, del, describe } from '../api.js';
import { tenants, chooseTenant } from '../session.js';
import { navigate } from '../router.js';
import { upgradePrompt } from '../widgets.js';

export const name = 'members';
export const title = 'Members';

const ROLES = [['member', 'Member'], ['admin', 'Admin'], ['owner', 'Owner']];
const OUTCOME = { created: 'Invited', already_invited: 'Already invited', already_member: 'Already a member' };

export async function render({ tenant, user }) {
  const id = tenant.tenant.id;
  const base = `/v1/tenants/${encodeURIComponent(id)}`;
  const canManage = tenant.role === 'owner' || tenant.role === 'admin';
  const root = h('section', {});
  const message = h('div', { class: 'form-message', 'aria-live': 'polite' });
  const say = (err) => mount(message, err.reason === 'LIMIT_EXCEEDED' ? upgradePrompt(err) : h('p', { class: 'alert alert-error', role: 'alert' }, describe(err)));
  const draw = async () => {
    const [members, invites] = await Promise.all([
      get(`${base}/members?page_size=100`),
      canManage ? get(`${base}/invites?state=pending&page_size=100`).catch(() => ({ invites: [] })) : { invites: [] },
    ]);
    const owners = members.members.filter((m) => m.role === 'owner').length;
    const memberRow = (m) => {
      const self = m.user_id === user.id;
      const soleOwner = m.role === 'owner' && owners === 1;
      const role = canManage && !self
        ? h('select', {
          'aria-label': `Role of ${m.display_name || m.email}`,
          onchange: async (e) => { try { await patch(`${base}/members/${m.user_id}`, { role: e.target.value }); await draw(); } catch (err) { say(err); await draw(); } },
        }, ROLES.map(([v, t]) => h('option', { value: v, selected: v === m.role }, t)))
        : h('span', { class: 'tag' }, m.role);
      const remove = self
        ? h('button', {
          type: 'button', class: 'btn btn-small', disabled: soleOwner, title: soleOwner ? 'Make someone else an owner first' : null,
          onclick: async () => {
            try {
              await del(`${base}/members/${m.user_id}`);
              chooseTenant('');
              await tenants({ fresh: true });
              navigate('/app');
            } catch (err) { say(err); }
          },
        }, 'Leave')
        : canManage ? h('button', { type: 'button', class: 'btn btn-small', onclick: async () => { try { await del(`${base}/members/${m.user_id}`); await draw(); } catch (err) { say(err); } } }, 'Remove') : null;
      return h('tr', { 'data-member': m.email },
        h('td', {}, h('strong', {}, m.display_name || m.email), h('br', {}), h('span', { class: 'hint' }, m.email)),
        h('td', {}, role), h('td', { class: 'col-joined' }, date(m.joined_at)), h('td', {}, remove,
          self && soleOwner ? h('span', { class: 'hint' }, ' You are the only owner.') : null));
    };
    mount(root,
      h('h1', {}, 'Members'),
      message,
      h('p', { 'data-testid': 'member-count' }, `${members.members.length} ${members.members.length === 1 ? 'member' : 'members'}`),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Person'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col', class: 'col-joined' }, 'Joined'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        h('tbody', {}, members.members.map(memberRow)))),
      canManage ? inviteForm() : null,
      canManage && invites.invites.length ? h('div', { class: 'panel' }, h('h2', {}, 'Pending invites'),
        h('ul', { class: 'list' }, invites.invites.map((inv) => h('li', { 'data-invite': inv.email },
          h('span', {}, `${inv.email} · ${inv.role} · expires ${date(inv.expires_at)}`),
          h('button', { type: 'button', class: 'btn btn-small', onclick: async () => { try { await del(`${base}/invites/${inv.id}`); await draw(); } catch (err) { say(err); } } }, 'Revoke'))))) : null);
  };
  const inviteForm = () => {
    const results = h('ul', { class: 'list', 'aria-live': 'polite', 'data-testid': 'invite-results' });
    const form = h('form', { novalidate: true, class: 'panel' },
      h('h2', {}, 'Invite people'),
      field({ name: 'emails', label: 'Email addresses', type: 'textarea', hint: 'One per line, or separated by commas.', required: true }),
      field({ name: 'role', label: 'Role', type: 'select', value: 'member', attrs: { options: ROLES.slice(0, 2) } }),
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send invites'), results);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearErrors(form);
      const data = new FormData(form);
      const emails = String(data.get('emails')).split(/[\s,;]+/).map((e) => e.trim()).filter(Boolean);
      busy(form, async () => {
        try {
          const answer = await post(`${base}/invites`, { invites: emails.map((email) => ({ email, role: data.get('role') })) });
          const rows = answer.results.map((r) => h('li', { 'data-result': r.outcome }, `${r.email}: ${OUTCOME[r.outcome] || r.outcome}`));
          await draw();
          const fresh = root.querySelector('[data-testid=invite-results]');
          if (fresh) mount(fresh, rows);
        } catch (err) {
          if (err.reason === 'LIMIT_EXCEEDED') say(err);
          else showProblem(form, err, describe);
        }
      });
    });
    return form;
  };
  await draw();
  return root;
}
