// Transit clearing per city: anomalies and the blacklist, read straight from the transit API
// (GET /v1/transit/cities, /v1/transit/{city}/anomalies, /v1/transit/{city}/reference).
import { api } from './api.js';
import { clearErrors, el, empty, showError } from './ui.js';

async function loadCity(code) {
  const panel = document.getElementById('transit');
  clearErrors(panel);
  const anomaliesBox = document.getElementById('transit-anomalies');
  const blacklistBox = document.getElementById('transit-blacklist');
  try {
    const [anomalies, reference] = await Promise.all([
      api('GET', `/v1/transit/${encodeURIComponent(code)}/anomalies`, { auth: false }),
      api('GET', `/v1/transit/${encodeURIComponent(code)}/reference`, { auth: false }),
    ]);
    anomaliesBox.replaceChildren(anomalies.anomalies.length
      ? el('table', {}, el('thead', {}, el('tr', {}, ['Card', 'Kind', 'Detail'].map((h) => el('th', {}, h)))),
          el('tbody', {}, anomalies.anomalies.map((a) => el('tr', {},
            el('td', { class: 'mono' }, a.card_serial), el('td', {}, a.kind), el('td', {}, a.detail)))))
      : empty('No anomaly in this city\'s clearing.'));
    blacklistBox.replaceChildren(
      el('p', { class: 'hint' }, `Blacklist version ${reference.blacklist_version}`),
      reference.blacklist.length
        ? el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Card serial'), el('th', {}, 'Purse algorithm'))),
            el('tbody', {}, reference.blacklist.map((b) => el('tr', {}, el('td', { class: 'mono' }, b.card_serial), el('td', {}, b.algorithm)))))
        : empty('No blocked card.'));
  } catch (e) {
    anomaliesBox.replaceChildren();
    blacklistBox.replaceChildren();
    showError(panel, null, `Cannot read city ${code}: ${e.message}`, 'transit');
  }
}

export async function setUpTransit() {
  const select = document.getElementById('transit-city');
  select.addEventListener('change', () => loadCity(select.value));
  try {
    const { cities } = await api('GET', '/v1/transit/cities', { auth: false });
    select.replaceChildren(...cities.map((c) => el('option', { value: c.city_code }, `${c.name} (${c.city_code})`)));
    if (cities.length) await loadCity(cities[0].city_code);
  } catch (e) {
    showError(document.getElementById('transit'), null, `Cannot list the cities: ${e.message}`, 'transit');
  }
}
