// Devices and "lost device": the wallet's devices (GET /v1/devices) with their state and last
// location; "I lost this device" (POST …/lost: its tokens are suspended), "Found it" (POST …/found:
// resumed), "Delete" (DELETE: its tokens are deleted). After each action the token reports and
// the cards' token states on that device are shown.
import { api } from './api.js';
import { h, stateBadge, confirmButton, formatTime } from './ui.js';

export async function render(root, app) {
  const list = h('div', { id: 'device-list' }, h('p', { class: 'loading' }, 'Loading devices…'));
  const report = h('div', { id: 'device-report', 'aria-live': 'polite' });
  const setup = h('div', { id: 'device-setup' });
  root.replaceChildren(h('section', { class: 'screen', id: 'devices-screen' },
    h('h1', {}, 'Devices'),
    h('p', { class: 'lead' }, 'Lost your phone? Suspend its cards here; resume them when you find it.'),
    report, list, setup));

  async function reload() {
    let devices, cards;
    try {
      [devices, cards] = await Promise.all([api('GET', '/v1/devices').then((a) => a.devices || []), app.cards()]);
    } catch (err) {
      list.replaceChildren(h('div', { class: 'form-error shown' }, `Devices: ${err.message}`));
      return;
    }
    list.replaceChildren(...(devices.length ? devices.map((d) => deviceItem(d, cards))
                                             : [h('p', { class: 'empty' }, 'No devices.')]));
    const mine = devices.find((d) => d.device_id === app.handsetId);
    setup.replaceChildren();
    if (!mine) {
      setup.append(h('p', { class: 'notice' }, 'This browser is not set up as a phone of your wallet.'),
        h('button', { type: 'button', class: 'primary', id: 'setup-phone', onclick: async () => {
          try {
            await app.ensureHandset({ forceNew: true });
            report.replaceChildren(h('p', { class: 'ok-text' }, 'This browser is now one of your phones.'));
          } catch (err) {
            report.replaceChildren(h('p', { class: 'form-error shown' }, err.message));
          }
          await reload();
        } }, 'Set up this browser as a phone'));
    }
  }

  function tokensOn(deviceId, cards) {
    const rows = [];
    for (const c of cards) {
      for (const t of c.tokens || []) {
        if (t.device_id === deviceId) rows.push({ card: c, token: t });
      }
    }
    return rows;
  }

  function deviceItem(d, cards) {
    const loc = d.last_location;
    const tokens = tokensOn(d.device_id, cards);
    const actions = h('div', { class: 'card-actions' });
    if (d.state === 'active') {
      actions.append(h('button', { type: 'button', class: 'warn small lost-button',
        onclick: () => act(d, 'POST', 'lost', 'marked lost: its cards are suspended') }, 'I lost this device'));
    }
    if (d.state === 'lost') {
      actions.append(h('button', { type: 'button', class: 'primary small found-button',
        onclick: () => act(d, 'POST', 'found', 'found: its cards are resumed') }, 'Found it'));
    }
    actions.append(confirmButton('Delete', 'Tap again to delete', () => act(d, 'DELETE', '', 'deleted with its cards\' tokens'),
      { class: 'danger small delete-device' }));
    return h('article', { class: `device-item ${d.state}`, 'data-device-id': d.device_id, 'data-state': d.state },
      h('div', { class: 'device-head' },
        h('span', { class: `device-icon ${d.kind}`, 'aria-hidden': 'true' }),
        h('span', { class: 'device-name' }, d.name),
        d.device_id === app.handsetId ? h('span', { class: 'badge' }, 'this browser') : null,
        stateBadge(d.state)),
      h('div', { class: 'muted small' }, `${d.kind} · ${d.storage === 'se' ? 'secure element' : 'HCE'} · since ${formatTime(d.created_unix_ms)}`),
      h('div', { class: 'small last-location' }, loc
        ? `Last seen at ${(loc.lat_e6 / 1e6).toFixed(5)}, ${(loc.lon_e6 / 1e6).toFixed(5)} · ${formatTime(loc.time_unix_ms)}`
        : 'No location reported'),
      tokens.length ? h('ul', { class: 'token-states' }, tokens.map(({ card, token }) =>
        h('li', { 'data-token-id': token.token_id, 'data-card-id': card.card_id },
          `${card.bank?.short_name || ''} •••• ${card.last4} · token ••${token.token_last4} `, stateBadge(token.state))))
        : h('div', { class: 'muted small' }, 'No cards on this device.'),
      actions);
  }

  async function act(device, method, action, what) {
    report.replaceChildren(h('p', { class: 'loading' }, 'Working…'));
    const path = `/v1/devices/${encodeURIComponent(device.device_id)}${action ? `/${action}` : ''}`;
    let answer;
    try {
      answer = await api(method, path);
    } catch (err) {
      // 503: some token calls failed; the body still lists the reports. Call again to finish.
      answer = err.body && err.body.tokens ? err.body : null;
      if (!answer) {
        report.replaceChildren(h('p', { class: 'form-error shown' }, err.message));
        await reload();
        return;
      }
    }
    const reports = answer.tokens || [];
    report.replaceChildren(h('div', { class: answer.all_succeeded === false ? 'form-error shown' : 'ok-box' },
      h('p', {}, `${device.name} ${what}.`, answer.all_succeeded === false ? ' Some cards could not be updated: try again.' : ''),
      reports.length ? h('ul', { class: 'token-reports' }, reports.map((r) =>
        h('li', { 'data-token-id': r.token_id }, `token ${r.token_id.slice(0, 12)}… `, stateBadge(r.state || 'unknown'),
          r.ok ? '' : ` — ${r.error || 'failed'}`))) : null));
    await reload();
  }

  await reload();
  return undefined;
}
