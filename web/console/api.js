// fetch + errors for the operations console. Failures are JSON {"error","message","field"?}
// (docs/console.md); callers get an ApiError so a form can show the message next to the field.
// The console session lives in sessionStorage: it ends with the tab, and is never a wallet session.

import { ApiError, call, sessionStore } from '/shared/http.js';

export { ApiError };

const session = sessionStore(sessionStorage, 'tapstack.console.session');
export const loadSession = () => session.load();
export const saveSession = (s) => session.save(s);

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

// Calls the API (JSON in and out). `auth` (default true) sends the console session. Throws ApiError
// on a non-2xx answer or when the server cannot be reached (code "network").
export async function api(method, path, { body, auth = true } = {}) {
  const s = auth ? loadSession() : null;
  try {
    return (await call(method, path, { body, headers: s ? { Authorization: `Bearer ${s.session}` } : {} })).parsed;
  } catch (err) {
    if (err.status === 401 && auth) onUnauthenticated(err);
    throw err;
  }
}
