// fetch + error handling for the wallet web app. Every API answer on failure is JSON
// {"error","message","field"?} (docs/api.md); callers get an ApiError carrying those members so a
// form can put the message next to the field the API names.

import { ApiError, call, sessionStore } from '/shared/http.js';

export { ApiError };

// The signed-in session: {session, user_id, phone, expires_unix_ms}, or null.
const session = sessionStore(localStorage, 'tapstack.session');
export const loadSession = () => session.load();
export const saveSession = (s) => session.save(s);

// The handset this browser plays, per wallet user (the handset id is the capability).
export function handsetKey(userId) { return `tapstack.handset.${userId}`; }

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

// Idempotency keys of requests whose answer has not arrived yet, by intent (see api()).
const pendingIntents = new Map();

export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

// Calls the API. Options: body (JSON), idempotencyKey (true → a fresh key), auth (default true:
// the session's bearer), raw (return the Response for non-JSON answers such as the QR SVG).
// Throws ApiError on a non-2xx answer and on a network failure (code "network").
export async function api(method, path, { body, idempotencyKey, auth = true, raw = false } = {}) {
  const headers = {};
  if (auth) {
    const s = loadSession();
    if (s) headers.Authorization = `Bearer ${s.session}`;
  }
  // `true`: one key per intent. The same request sent again after its answer was lost (no
  // answer, or a 5xx) reuses its key, so the server answers the first outcome instead of paying
  // twice; once an answer arrives the next identical request is a new intent with a new key.
  const intent = idempotencyKey === true ? `${method} ${path} ${JSON.stringify(body ?? null)}` : null;
  if (idempotencyKey) {
    if (intent && !pendingIntents.has(intent)) pendingIntents.set(intent, newIdempotencyKey());
    headers['Idempotency-Key'] = intent ? pendingIntents.get(intent) : idempotencyKey;
  }
  try {
    const { res, parsed } = await call(method, path, { body, headers, raw });
    if (intent) pendingIntents.delete(intent);
    return raw ? res : { status: res.status, ...(parsed || {}) };
  } catch (err) {
    if (intent && err.status !== 0 && err.status < 500) pendingIntents.delete(intent);
    // The wallet's session ended (the QR platforms' account routes are behind it too).
    if (err.status === 401 && auth && path.startsWith('/v1/')) {
      onUnauthenticated(err);
    }
    throw err;
  }
}

// Currencies (GET /v1/currencies), cached: code → {code, exponent, name, numeric}.
let currencyTable = null;
export async function currencies() {
  if (!currencyTable) {
    const answer = await api('GET', '/v1/currencies', { auth: false });
    currencyTable = new Map(answer.currencies.map((c) => [c.code, c]));
  }
  return currencyTable;
}

export function exponentOf(code) {
  const c = currencyTable && currencyTable.get(code);
  return c ? c.exponent : 2;
}
