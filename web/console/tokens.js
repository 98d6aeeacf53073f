// Token lifecycle: look a token up by id, suspend / resume / delete it with a reason
// (GET /v1/console/tokens/{id}, POST /v1/console/tokens/{id}/{action}).
import { api } from './api.js';
import { clearErrors, el, formatDateTime, showError } from './ui.js';

const kTokenIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;

function tokenCard(t) {
  const row = (k, v) => el('tr', {}, el('th', {}, k), el('td', { class: 'mono' }, v ?? '–'));
  return el('div', { class: 'token-card', dataset: { state: t.state, tokenId: t.token_id } },
    el('span', { class: `badge state-${t.state}` }, t.state + (t.suspended_by ? ` (by ${t.suspended_by})` : '')),
    el('table', { class: 'kv' }, el('tbody', {},
      row('Token id', t.token_id),
      row('Token', t.masked_token),
      row('Funding card', t.masked_pan),
      row('Token expiry (YYMM)', t.token_expiry),
      row('PAR', t.par),
      row('Token requestor', t.requestor_id),
      row('Device', t.device_id),
      row('Key storage', t.storage),
      row('Created', formatDateTime(t.created_unix_ms)),
      row('Last change', formatDateTime(t.updated_unix_ms)))));
}

export function setUpTokens() {
  const form = document.getElementById('token-form');
  const result = document.getElementById('token-result');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const action = event.submitter ? event.submitter.value : 'lookup';
    const tokenId = form.token_id.value.trim();
    const reason = form.reason.value.trim();
    if (!kTokenIdPattern.test(tokenId)) return showError(form, 'token_id', 'Enter the token id (tok_…), as the wallet or the issuer shows it.');
    if (action !== 'lookup' && !reason) return showError(form, 'reason', 'A reason is required: it goes to the audit log.');
    try {
      const path = `/v1/console/tokens/${encodeURIComponent(tokenId)}`;
      const body = action === 'lookup' ? await api('GET', path) : await api('POST', `${path}/${action}`, { body: { reason } });
      result.replaceChildren(tokenCard(body.token));
      if (action !== 'lookup') result.prepend(el('p', { class: 'ok-note' }, `Token ${action === 'delete' ? 'deleted' : action + 'ed'}.`));
    } catch (e) {
      showError(form, e.field === 'token_id' || e.field === 'reason' ? e.field : null, e.message);
    }
  });
}
