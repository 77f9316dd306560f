// Client-side routes: a table of path patterns to screen modules (one module per screen, loaded on
// first use), links and history handled here, `:params` passed to the screen.

import { h, mount } from './dom.js';

const routes = [];
let current = null;

export function route(pattern, load, options = {}) {
  const names = [];
  const regex = new RegExp(`^${pattern.replace(/:[a-z_]+/g, (m) => { names.push(m.slice(1)); return '([^/]+)'; })}/?$`);
  routes.push({ regex, names, load, ...options });
}

export function match(pathname) {
  for (const r of routes) {
    const m = r.regex.exec(pathname);
    if (m) {
      const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      return { ...r, params };
    }
  }
  return null;
}

export function navigate(path, { replace = false } = {}) {
  if (replace) window.history.replaceState({}, '', path);
  else window.history.pushState({}, '', path);
  render();
}

export const app = { render: async () => {} };

export function render() {
  return app.render(window.location.pathname);
}

export function start(renderFn) {
  app.render = renderFn;
  document.addEventListener('click', (event) => {
    const a = event.target.closest('a');
    if (!a || a.target || a.hasAttribute('download') || event.defaultPrevented) return;
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname.startsWith('/v1/') || a.dataset.external) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  window.addEventListener('popstate', () => render());
  return render();
}

/** Marks the screen that is showing (tests and assistive tech read `data-screen`). */
export function setScreen(name, title) {
  current = name;
  delete document.body.dataset.screen;
  document.title = title ? `${title} · Onramp` : 'Onramp';
}

/** Marks the screen as drawn (after its content is in the page). */
export function shown() {
  if (current) document.body.dataset.screen = current;
}

export function currentScreen() {
  return current;
}

export function skeleton() {
  return h('div', { class: 'skeleton', 'aria-busy': 'true' },
    h('div', { class: 'sk-line sk-wide' }), h('div', { class: 'sk-line' }), h('div', { class: 'sk-line sk-short' }),
    h('span', { class: 'visually-hidden' }, 'Loading…'));
}

export { mount };
