// Who is signed in and which workspace is open. Only ids and display data live here; the tokens
// stay in HttpOnly cookies the page cannot read.

import { get, post, COOKIE_SESSION } from './api.js';

const TENANT_KEY = 'onramp.workspace';

export const state = { user: undefined, tenants: null, tenantId: null, billing: null };

/** The signed-in user, or null (no redirect: this is how the app asks "is anyone signed in?"). */
export async function currentUser({ fresh = false } = {}) {
  if (state.user !== undefined && !fresh) return state.user;
  try {
    state.user = await get('/v1/users/me', { quiet401: true });
  } catch (err) {
    if (err.status === 401) state.user = null;
    else throw err;
  }
  return state.user;
}

export async function login(email, password) {
  await post('/v1/auth/login', { email, password }, { headers: COOKIE_SESSION });
  forget();
  return currentUser({ fresh: true });
}

export async function logout() {
  try { await post('/v1/auth/logout', {}); } finally { forget(); state.user = null; }
}

export function forget() {
  state.user = undefined;
  state.tenants = null;
  state.billing = null;
}

export async function tenants({ fresh = false } = {}) {
  if (state.tenants && !fresh) return state.tenants;
  const answer = await get('/v1/tenants?page_size=100');
  state.tenants = answer.tenants || [];
  return state.tenants;
}

/** The open workspace (the remembered one if still a member, else the first), or null. */
export async function currentTenant() {
  const list = await tenants();
  if (!list.length) return null;
  const remembered = localStorage.getItem(TENANT_KEY);
  const found = list.find((t) => t.tenant.id === remembered) || list[0];
  state.tenantId = found.tenant.id;
  return found;
}

export function chooseTenant(id) {
  localStorage.setItem(TENANT_KEY, id);
  state.tenantId = id;
  state.billing = null;
}

/** The open workspace's subscription summary, or null when it has none yet. */
export async function billingSummary(tenantId, { fresh = false } = {}) {
  if (state.billing && state.billing.tenant_id === tenantId && !fresh) return state.billing;
  try {
    state.billing = await get(`/v1/billing/subscription?tenant_id=${encodeURIComponent(tenantId)}`);
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
  return state.billing;
}

/** Whether the verification grace period is over for an unverified user. */
export function pastGrace(user) {
  if (!user || user.email_verified) return false;
  if (!user.email_verification_required) return false;
  const ends = user.verification_grace_ends_at ? Date.parse(user.verification_grace_ends_at) : NaN;
  return Number.isFinite(ends) ? ends <= Date.now() : false;
}
