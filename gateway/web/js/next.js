// `next`: where to go after signing in. Only same-origin relative paths are accepted, so a crafted
// link can never send someone to another site (no open redirect).

export function safeNext(value, fallback = '/app') {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    return fallback;
  }
  try {
    const url = new URL(value, window.location.origin);
    if (url.origin !== window.location.origin) return fallback;
    return url.pathname + url.search + url.hash;
  } catch {
    return fallback;
  }
}

/** The `next` of the current URL, made safe. */
export function currentNext(fallback = '/app') {
  return safeNext(new URLSearchParams(window.location.search).get('next'), fallback);
}

/** `path` with `?next=` carrying `next` (when there is one worth keeping). */
export function withNext(path, next) {
  if (!next || next === '/app') return path;
  return `${path}?next=${encodeURIComponent(next)}`;
}
