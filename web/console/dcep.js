// Digital currency: the supply (what the central bank issued = what the operators hold) and the
// devices each operator revoked (blocked for a double spend, frozen when lost), from
// GET /v1/console/dcep. A node without the digital currency answers 503: the panel says so.
import { api } from './api.js';
import { clearErrors, el, empty, formatDateTime, formatMinor, showError } from './ui.js';

const kPollMs = 10_000;
let timer = null;

const fen = (x) => formatMinor(x, 'CNY').replace('CNY', 'e-CNY');

function render(body) {
  document.getElementById('dcep-issued').textContent = fen(body.central_bank.issued_fen);
  document.getElementById('dcep-held').textContent = fen(body.held_fen);
  const balanced = document.getElementById('dcep-balanced');
  balanced.textContent = body.balanced ? 'yes' : 'NO';
  balanced.className = `kpi-value ${body.balanced ? 'good' : 'neg'}`;
  document.getElementById('dcep-body').dataset.balanced = String(body.balanced);
  const money = (x) => el('td', { class: 'num' }, formatMinor(x, ''));  // the header says e-CNY
  document.querySelector('#dcep-operators tbody').replaceChildren(...body.operators.map((o) => el('tr', { dataset: { operator: o.id } },
    el('td', {}, `${o.name || o.id} `, el('span', { class: 'mono hint' }, o.id)),
    money(o.position_fen), money(o.float_fen), money(o.wallets_fen), money(o.purses_fen), money(o.escrows_fen),
    el('td', { class: 'num' }, o.wallets))));
  const revoked = body.operators.flatMap((o) => o.revoked_devices.map((d) => ({ ...d, operator: o.name || o.id })));
  document.getElementById('dcep-revoked').replaceChildren(revoked.length
    ? el('table', {}, el('thead', {}, el('tr', {}, ['Device', 'Operator', 'Reason', 'Since'].map((h) => el('th', {}, h)))),
        el('tbody', {}, revoked.map((d) => el('tr', { dataset: { reason: d.reason } },
          el('td', { class: 'mono' }, d.device_id), el('td', {}, d.operator),
          el('td', {}, el('span', { class: 'badge down' }, d.reason.replace('_', ' '))),
          el('td', {}, formatDateTime(d.revoked_unix_ms))))))
    : empty('No device is blocked or frozen.'));
}

async function refresh() {
  const panel = document.getElementById('dcep');
  try {
    const body = await api('GET', '/v1/console/dcep');
    clearErrors(panel);
    document.getElementById('dcep-notice').hidden = true;
    document.getElementById('dcep-body').hidden = false;
    render(body);
  } catch (e) {
    clearErrors(panel);
    if (e.status === 503) {
      document.getElementById('dcep-notice').hidden = false;
      document.getElementById('dcep-body').hidden = true;
      stopDcep();
    } else if (e.status === 409) {
      // A payment between operators is in flight: the audit waits for it (next refresh).
      document.getElementById('dcep-summary').textContent = `Audit deferred: ${e.message}`;
    } else {
      showError(panel, null, `Cannot read the digital currency: ${e.message}`, 'dcep');
    }
  }
}

export function startDcep() {
  stopDcep();
  refresh();
  timer = setInterval(refresh, kPollMs);
}

export function stopDcep() {
  if (timer) clearInterval(timer);
  timer = null;
}
