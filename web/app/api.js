// fetch + error handling for the wallet web app. Every API answer on failure is JSON
// {"error","message","field"?} (docs/api.md); callers get an ApiError carrying those members so a
// form can put the message next to the field the API names.

const kSessionKey = 'tapstack.session';

export class ApiError extends Error {
  constructor(status, body) {
    const message = (body && typeof body.message === 'string' && body.message) ||
                    (body && body.error) || `HTTP ${status}`;
    super(message);
    this.status = status;
    this.code = (body && body.error) || 'http_error';
    this.field = body && typeof body.field === 'string' ? body.field : null;
    this.body = body || {};
  }
}

// The signed-in session: {session, user_id, phone, expires_unix_ms}, or null.
export function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(kSessionKey) || 'null');
    if (!s || !s.session || (s.expires_unix_ms && s.expires_unix_ms < Date.now())) return null;
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s) {
  if (s) localStorage.setItem(kSessionKey, JSON.stringify(s));
  else localStorage.removeItem(kSessionKey);
}

// The handset this browser plays, per wallet user (the handset id is the capability).
export function handsetKey(userId) { return `tapstack.handset.${userId}`; }

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

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
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) {
    const s = loadSession();
    if (s) headers.Authorization = `Bearer ${s.session}`;
  }
  if (idempotencyKey) {
    headers['Idempotency-Key'] = idempotencyKey === true ? newIdempotencyKey() : idempotencyKey;
  }
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { error: 'network', message: `the server cannot be reached (${e.message})` });
  }
  if (raw && res.ok) return res;
  let parsed = null;
  const text = await res.text();
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: 'bad_answer', message: `HTTP ${res.status}: the answer is not JSON` };
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, parsed);
    if (res.status === 401 && auth && path.startsWith('/v1/') && !path.startsWith('/v1/qrpay/')) {
      onUnauthenticated(err);
    }
    throw err;
  }
  return { status: res.status, ...(parsed || {}) };
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
