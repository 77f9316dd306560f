// The app's 404.
import { h, card } from '../dom.js';

export const name = 'not-found';
export const title = 'Not found';

export async function render() {
  return card('Page not found', h('p', {}, 'There is nothing at this address. It may have moved, or the link is incomplete.'),
    h('a', { class: 'btn btn-primary', href: '/app' }, 'Go to Onramp'));
}
