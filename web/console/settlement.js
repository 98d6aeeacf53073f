// Settlement: the last report per bank and currency (GET /v1/console/settlement) and a cut-off
// on demand (POST /v1/console/settlement/cutoff).
import { api } from './api.js';
import { clearErrors, el, empty, formatMinor, showError } from './ui.js';

function reportTable(report) {
  const byCurrency = new Map();
  for (const p of report.positions) {
    if (!byCurrency.has(p.currency)) byCurrency.set(p.currency, []);
    byCurrency.get(p.currency).push(p);
  }
  const money = (minor, currency) => el('td', { class: `num ${minor < 0 ? 'neg' : ''}` }, formatMinor(minor, currency));
  const sections = [...byCurrency.entries()].map(([currency, rows]) => el('tbody', { dataset: { currency } },
    el('tr', { class: 'group' }, el('th', { colspan: 7 }, currency)),
    rows.map((p) => el('tr', { dataset: { institution: p.institution_id } },
      el('td', {}, p.bank_name || (p.institution_id === '00010000' ? 'the network' : '–')),
      el('td', { class: 'mono' }, p.institution_id),
      el('td', { class: 'num' }, p.transactions),
      money(p.as_issuer_minor, currency), money(p.as_acquirer_minor, currency),
      money(p.fees_minor, currency), money(p.net_minor, currency)))));
  return el('div', { class: 'table-wrap' },
    el('p', { class: 'hint' }, `Cycle ${report.cycle}: ${report.records} clearing records. Net positions sum to zero per currency.`),
    el('table', { id: 'settlement-table' },
      el('thead', {}, el('tr', {}, ['Bank', 'Institution', 'Txns', 'As issuer', 'As acquirer', 'Fees', 'Net'].map((h, i) => el('th', { class: i >= 2 ? 'num' : '' }, h)))),
      sections));
}

function render(body) {
  const box = document.getElementById('settlement-report');
  document.getElementById('settlement-open').textContent = `${body.open_records} clearing records in the open cycle`;
  box.replaceChildren(body.report && body.report.positions.length
    ? reportTable(body.report)
    : body.report ? empty(`Cycle ${body.report.cycle} settled nothing.`) : empty('No settlement cut-off yet.'));
}

export async function loadSettlement() {
  const panel = document.getElementById('settlement');
  clearErrors(panel);
  try {
    render(await api('GET', '/v1/console/settlement'));
  } catch (e) {
    showError(panel, null, `Cannot read the settlement report: ${e.message}`, 'settlement');
  }
}

export function setUpSettlement() {
  const button = document.getElementById('cutoff-button');
  button.addEventListener('click', async () => {
    const panel = document.getElementById('settlement');
    clearErrors(panel);
    button.disabled = true;
    try {
      render(await api('POST', '/v1/console/settlement/cutoff', { body: {} }));
    } catch (e) {
      showError(panel, null, `Cut-off failed: ${e.message}`, 'settlement');
    } finally {
      button.disabled = false;
    }
  });
}
