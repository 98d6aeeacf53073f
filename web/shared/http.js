// What the wallet app and the console share: the API's error shape, a session kept in browser
// storage, and one JSON call. Every API answer on failure is JSON {"error","message","field"?}
// (docs/api.md); an ApiError carries those members so a form can put the message next to the
// field the API names.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && typeof body.message === 'string' && body.message) || (body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error) || 'http_error';
    this.field = body && typeof body.field === 'string' ? body.field : null;
    this.body = body || {};
  }
}

// A session ({session, expires_unix_ms, …}) under `key` in `storage` (localStorage survives the
// tab, sessionStorage ends with it). load() returns null once it has expired.
export function sessionStore(storage, key) {
  return {
    load() {
      try {
        const s = JSON.parse(storage.getItem(key) || 'null');
        if (!s || !s.session || (s.expires_unix_ms && s.expires_unix_ms < Date.now())) return null;
        return s;
      } catch {
        return null;
      }
    },
    save(s) {
      if (s) storage.setItem(key, JSON.stringify(s));
      else storage.removeItem(key);
    },
  };
}

// One call: `body` as JSON, `headers` added. Returns {res, parsed} for a 2xx answer (parsed: the
// JSON body or null); throws ApiError for any other answer and when the server cannot be reached
// (code "network"). With `raw`, a 2xx Response is returned unread (a QR image).
export async function call(method, path, { body, headers = {}, raw = false } = {}) {
  const all = { ...headers };
  if (body !== undefined) all['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { error: 'network', message: `the server cannot be reached (${e.message})` });
  }
  if (raw && res.ok) return { res, parsed: null };
  const text = await res.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: 'bad_answer', message: `HTTP ${res.status}: the answer is not JSON` };
    }
  }
  if (!res.ok) throw new ApiError(res.status, parsed);
  return { res, parsed };
}
