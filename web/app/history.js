// History: a card's transactions over all its tokens (GET /v1/cards/{card_id}/transactions).
import { api } from './api.js';
import { h, formatMinor, formatTime, responseCodeMeaning } from './ui.js';

export async function render(root, app, cardId) {
  const cards = await app.cards();
  if (cards.length === 0) {
    root.replaceChildren(h('section', { class: 'screen', id: 'history-screen' }, h('h1', {}, 'History'),
      h('p', { class: 'empty' }, 'No cards yet.')));
    return undefined;
  }
  const chosen = cards.find((c) => c.card_id === cardId) || cards.find((c) => c.is_default) || cards[0];
  const select = h('select', { id: 'history-card', 'aria-label': 'Card' }, cards.map((c) =>
    h('option', { value: c.card_id, selected: c.card_id === chosen.card_id || undefined },
      `${c.bank?.short_name || ''} ${c.card_type} •••• ${c.last4}`)));
  select.addEventListener('change', () => { location.hash = `#/history/${select.value}`; });
  const list = h('div', { id: 'history-list' }, h('p', { class: 'loading' }, 'Loading…'));
  root.replaceChildren(h('section', { class: 'screen', id: 'history-screen' },
    h('h1', {}, 'History'), select, list));

  try {
    const answer = await api('GET', `/v1/cards/${chosen.card_id}/transactions`);
    const txs = answer.transactions || [];
    if (txs.length === 0) {
      list.replaceChildren(h('p', { class: 'empty' }, 'No payments with this card yet.'));
    } else {
      list.replaceChildren(h('ul', { class: 'tx-list' }, txs.map((t) =>
        h('li', { class: `tx ${t.approved ? 'approved' : 'declined'}`, 'data-approved': String(!!t.approved) },
          h('div', { class: 'tx-main' },
            h('span', { class: 'tx-merchant' }, t.merchant || '—'),
            h('span', { class: 'tx-amount' }, formatMinor(t.amount_minor, t.currency))),
          h('div', { class: 'tx-sub' },
            formatTime(t.time_unix_ms), ' · ', t.channel || '', ' · ',
            t.approved ? `approved ${t.approval_code || ''}` : `declined ${t.response_code} (${responseCodeMeaning(t.response_code)})`,
            t.device_id === app.handsetId ? ' · this phone' : ` · ${String(t.device_id || '').slice(0, 12)}`)))));
    }
  } catch (err) {
    list.replaceChildren(h('div', { class: 'form-error shown' }, `History: ${err.message}`));
  }
  return undefined;
}
