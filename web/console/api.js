// fetch + errors for the operations console. Failures are JSON {"error","message","field"?}
// (docs/console.md); callers get an ApiError so a form can show the message next to the field.
// The console session lives in sessionStorage: it ends with the tab, and is never a wallet session.

const kSessionKey = 'tapstack.console.session';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && typeof body.message === 'string' && body.message) || (body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error) || 'http_error';
    this.field = body && typeof body.field === 'string' ? body.field : null;
    this.body = body || {};
  }
}

export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(kSessionKey) || 'null');
    if (!s || !s.session || s.expires_unix_ms < Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s) {
  if (s) sessionStorage.setItem(kSessionKey, JSON.stringify(s));
  else sessionStorage.removeItem(kSessionKey);
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

// Calls the API (JSON in and out). `auth` (default true) sends the console session. Throws ApiError
// on a non-2xx answer or when the server cannot be reached (code "network").
export async function api(method, path, { body, auth = true } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const s = auth ? loadSession() : null;
  if (s) headers.Authorization = `Bearer ${s.session}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { error: 'network', message: `the server cannot be reached (${e.message})` });
  }
  const text = await res.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: 'bad_answer', message: `HTTP ${res.status}: the answer is not JSON` };
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, parsed);
    if (res.status === 401 && auth) onUnauthenticated(err);
    throw err;
  }
  return parsed;
}
