// Tiny DOM helpers: h() builds elements (no innerHTML anywhere, so no markup injection), and a few
// form helpers shared by the screens.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled input with a place for its error (`aria-describedby`). */
export function field({ name, label, type = 'text', value = '', required = false, autocomplete, hint, attrs = {} }) {
  const id = `f-${name}`;
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  const { options = [], ...rest } = attrs;
  const input = type === 'select'
    ? h('select', { id, name, required, 'aria-describedby': `${id}-error`, ...rest },
      options.map(([v, t]) => h('option', { value: v, selected: v === value }, t)))
    : h(type === 'textarea' ? 'textarea' : 'input', {
      id, name, type: type === 'textarea' ? null : type, required, autocomplete,
      'aria-describedby': `${id}-error`, ...rest,
    });
  if (type !== 'select') input.value = value;
  return h('div', { class: 'field' },
    h('label', { for: id }, label), hint ? h('p', { class: 'hint' }, hint) : null, input, error);
}

/** The form's values as an object. */
export function values(form) {
  return Object.fromEntries(new FormData(form).entries());
}

/** Clears the field errors and the form message. */
export function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((p) => { p.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  const msg = form.querySelector('.form-message');
  if (msg) msg.replaceChildren();
}

/**
 * Shows a problem: beside its field when the field is on the form (focus moves there), else in
 * the form's message area. Returns true when placed beside a field.
 */
export function showProblem(form, err, describe) {
  const problem = err.problem || {};
  const fieldName = (problem.field || '').split('.').pop();
  const input = fieldName && form.querySelector(`[name="${CSS.escape(fieldName)}"]`);
  const text = describe ? describe(err) : err.message;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    const slot = form.querySelector(`#f-${CSS.escape(fieldName)}-error`);
    if (slot) slot.textContent = text;
    input.focus();
    return true;
  }
  let msg = form.querySelector('.form-message');
  if (!msg) {
    msg = h('div', { class: 'form-message', role: 'alert' });
    form.prepend(msg);
  }
  mount(msg, h('p', { class: 'alert alert-error' }, text,
    problem.trace_id ? h('span', { class: 'trace' }, ` Reference: ${problem.trace_id}`) : null));
  return false;
}

/** Disables the form's submit button while `work` runs. */
export async function busy(form, work) {
  const buttons = form.querySelectorAll('button');
  buttons.forEach((b) => { b.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    form.removeAttribute('aria-busy');
  }
}

/**
 * Handles the form's submits: the browser's own is stopped, the last errors cleared and the form
 * busy while `work` runs; a problem it throws is shown on the form, worded by `describe`.
 */
export function onSubmit(form, describe, work) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    busy(form, async () => {
      try {
        await work();
      } catch (err) {
        showProblem(form, err, describe);
      }
    });
  });
}

/** A public page's card. */
export function card(title, ...children) {
  return h('section', { class: 'card' }, h('h1', {}, title), ...children);
}

export function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

export function money(minor, currency) {
  if (!minor) return 'Free';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: (currency || 'usd').toUpperCase() })
      .format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

export function date(rfc3339) {
  if (!rfc3339) return '';
  return new Date(rfc3339).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function newKey() {
  return crypto.randomUUID();
}

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
