// /app: where signing in lands; on to the workspace, or to the welcome wizard without one.
import { tenants } from '../session.js';
import { navigate } from '../router.js';

export const name = 'home';
export const title = 'Onramp';

export async function render() {
  const list = await tenants({ fresh: true });
  navigate(list.length ? '/get-started' : '/welcome', { replace: true });
  return null;
}
