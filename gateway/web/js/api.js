// The one way screens talk to the API: same-origin fetch with the session cookies, the CSRF header
// from the readable cookie on mutations, problem+json turned into ApiError, and one silent refresh
// on a 401 before sending the person to the log-in page with `next`.

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || `Request failed (${status})`);
    this.status = status;
    this.problem = problem || {};
    this.reason = this.problem.reason || '';
    this.retryAfter = retryAfter;
  }
}

function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'onramp_csrf' || name === '__Host-onramp_csrf') return rest.join('=');
  }
  return '';
}

/** Headers asking the gateway for a cookie-only session answer (no tokens in the body). */
export const COOKIE_SESSION = { 'X-Onramp-Session': 'cookie' };

let refreshing = null;

/** One refresh at a time; resolves to whether it worked. */
export function refreshSession() {
  if (!refreshing) {
    refreshing = send('POST', '/v1/auth/refresh', {}, { headers: COOKIE_SESSION })
      .then(() => true, () => false)
      .finally(() => { setTimeout(() => { refreshing = null; }, 0); });
  }
  return refreshing;
}

async function send(method, path, body, { headers = {}, signal } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers }, signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const token = csrfToken();
    if (token) init.headers['X-CSRF-Token'] = token;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    if (cause.name === 'AbortError') throw cause;
    throw new ApiError(0, { title: 'Network error', detail: 'We could not reach Onramp. Check your connection and try again.' });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    const retry = Number(response.headers.get('Retry-After'));
    throw new ApiError(response.status, data, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  return data;
}

/**
 * A request. On 401 it refreshes once and retries; if that fails, `onSignedOut` (set by the app)
 * sends the person to log in. `quiet401` skips that (for "am I signed in?" probes).
 */
export async function api(method, path, body, options = {}) {
  try {
    return await send(method, path, body, options);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || path.startsWith('/v1/auth/')) throw err;
    if (await refreshSession()) return send(method, path, body, options);
    if (!options.quiet401) hooks.onSignedOut();
    throw err;
  }
}

export const hooks = { onSignedOut: () => {} };

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body = {}, options) => api('POST', path, body, options);
export const patch = (path, body = {}, options) => api('PATCH', path, body, options);
export const del = (path, options) => api('DELETE', path, undefined, options);

/** A wait as a person says it: "45 seconds", "3 minutes", "1 hour" (rounded up, never "3600 seconds"). */
export function waitInWords(seconds) {
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const s = Math.max(1, Math.ceil(seconds));
  if (s <= 90) return plural(s, 'second');
  if (s <= 90 * 60) return plural(Math.ceil(s / 60), 'minute');
  return plural(Math.ceil(s / 3600), 'hour');
}

/** A person-sized sentence for an error. */
export function describe(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Please try again.';
  if (err.status === 429) {
    return err.retryAfter ? `Too many attempts. Try again in ${waitInWords(err.retryAfter)}.` : 'Too many attempts. Try again shortly.';
  }
  if (err.status >= 500 || err.status === 0) return err.problem.detail || 'Something went wrong on our side. Please try again.';
  return err.message;
}
