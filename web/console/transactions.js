// Transaction search over the switch's message journal: GET /v1/console/transactions by masked
// card or token number, or by last 4 digits. Each transaction lists its messages (acquirer →
// switch → issuer and back) with the masked message JSON expandable.
import { api } from './api.js';
import { clearErrors, el, empty, formatDateTime, formatMinor, formatTime, showError } from './ui.js';

const kMaskedPattern = /^\d{6}\*{2,9}\d{4}$/;

// What the form's one box holds, as the API's query, or an error message.
function queryOf(text) {
  const t = text.trim().replace(/\s+/g, '');
  if (/^\d{4}$/.test(t)) return { last4: t };
  if (kMaskedPattern.test(t)) return { masked_pan: t };
  if (/^\d{12,19}$/.test(t)) return { error: 'Enter the masked number (first 6 and last 4, e.g. 622202******0015) or the last 4 digits: the console never takes a full card number.' };
  return { error: 'Expected a masked card or token number (e.g. 622202******0015) or its last 4 digits.' };
}

const kDirections = { in: '→ switch', out: 'switch →' };

function messageRow(m) {
  const json = m.message ? JSON.stringify(m.message, null, 2) : '(not readable)';
  const dir = m.direction === 'in' ? `${m.peer} → switch` : `switch → ${m.peer}`;
  return el('tr', { class: 'msg', dataset: { mti: m.mti, direction: m.direction } },
    el('td', { class: 'mono' }, formatTime(m.unix_ms)),
    el('td', {}, el('span', { class: `dir ${m.direction}`, title: kDirections[m.direction] || '' }, dir)),
    el('td', { class: 'mono' }, m.mti),
    el('td', { class: 'mono' }, m.stan || '–'),
    el('td', { class: 'mono' }, m.masked_pan || '–'),
    el('td', { class: 'mono' }, m.response_code ? el('span', { class: `rc ${m.response_code === '00' || m.response_code === '85' ? 'ok' : 'bad'}` }, m.response_code) : '–'),
    el('td', {}, el('details', {}, el('summary', {}, 'message'), el('pre', { class: 'json' }, json))));
}

function transactionCard(t) {
  // "85" (no reason to decline) answers an account verification, e.g. a token's ID&V.
  const verified = t.response_code === '85';
  const status = !t.response_code ? 'no answer yet'
    : t.approved ? 'approved' : verified ? 'verified 85' : `declined ${t.response_code}`;
  return el('article', { class: 'txn', dataset: { stan: t.stan, responseCode: t.response_code, maskedPan: t.masked_pan } },
    el('header', {},
      el('span', { class: `badge ${t.approved || verified ? 'up' : 'down'}` }, status),
      el('strong', {}, formatMinor(t.amount_minor, t.currency)),
      el('span', { class: 'mono' }, t.masked_pan || '–'),
      el('span', { class: 'hint' }, `MTI ${t.mti || '?'} · STAN ${t.stan} · terminal ${t.terminal_id || '–'} · ${formatDateTime(t.first_unix_ms)}`)),
    el('table', { class: 'messages' },
      el('thead', {}, el('tr', {}, ['Time', 'Route', 'MTI', 'STAN', 'Card / token', 'RC', 'Masked message'].map((h) => el('th', {}, h)))),
      el('tbody', {}, t.messages.map(messageRow))));
}

export function setUpTransactions() {
  const form = document.getElementById('txn-search-form');
  const results = document.getElementById('txn-results');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const q = queryOf(form.card.value);
    if (q.error) return showError(form, 'card', q.error);
    const params = new URLSearchParams({ ...q, limit: form.limit.value });
    results.replaceChildren(el('p', { class: 'loading' }, 'Searching…'));
    try {
      const body = await api('GET', `/v1/console/transactions?${params}`);
      results.dataset.count = String(body.transactions.length);
      results.replaceChildren(...(body.transactions.length
        ? body.transactions.map(transactionCard)
        : [empty('No transaction in the journal for that card or token.')]));
    } catch (e) {
      results.replaceChildren();
      // The API names masked_pan or last4; both are this form's one "card" box.
      const field = e.field === 'masked_pan' || e.field === 'last4' ? 'card' : null;
      showError(form, field, e.message);
    }
  });
}
