// Issuer links: GET /v1/console/links, refreshed every few seconds.
import { api } from './api.js';
import { clearErrors, el, empty, showError } from './ui.js';

const kPollMs = 3000;
let timer = null;

async function refresh() {
  const panel = document.getElementById('links');
  try {
    const body = await api('GET', '/v1/console/links');
    clearErrors(panel);
    const tbody = document.querySelector('#links-table tbody');
    tbody.replaceChildren(...body.issuers.map((i) => el('tr', { dataset: { institution: i.institution_id, ready: String(i.ready) } },
      el('td', {}, el('span', { class: `badge ${i.ready ? 'up' : 'down'}` }, i.ready ? 'ready' : 'down')),
      el('td', { class: 'mono' }, i.institution_id),
      el('td', {}, i.name),
      el('td', { class: `num${i.advices_pending > 0 ? ' attention' : ''}` }, i.advices_pending),
      el('td', { class: 'num' }, i.stand_in_approved),
      el('td', { class: 'num' }, i.stand_in_declined))));
    if (body.issuers.length === 0) tbody.replaceChildren(el('tr', {}, el('td', { colspan: 6 }, empty('No issuer registered.'))));
    const down = body.issuers.filter((i) => !i.ready).length;
    document.getElementById('links-summary').textContent =
        `${body.issuers.length - down} of ${body.issuers.length} ready · ${body.advices_pending_total} advices waiting`;
  } catch (e) {
    clearErrors(panel);
    showError(panel, null, `Cannot read the links: ${e.message}`, 'links');
  }
}

export function startLinks() {
  stopLinks();
  refresh();
  timer = setInterval(refresh, kPollMs);
}

export function stopLinks() {
  if (timer) clearInterval(timer);
  timer = null;
}
