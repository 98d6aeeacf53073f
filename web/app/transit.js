// Transit: city transit cards in this phone's secure element. Cities from
// GET /v1/transit/cities; the handset drives the operator's API and the purse applet:
// POST /v1/handsets/{id}/transit/cards (open, fee paid in-app with a bank card's token),
// …/cards/{card}/top-ups, …/cards/{card}/rides (metro in/out, bus), …/cards/{card}/delete
// (block, close, refund to the paying bank card), GET …/cards/{card}
// (balance and trips).
import { api } from './api.js';
import { h, field, formError, submitting, parseAmount, formatMinor, formatTime, confirmButton } from './ui.js';

const kCityOfCard = (cardId) => `tapstack.transit.city.${cardId}`;

function fen(n) { return formatMinor(n, 'CNY'); }

export async function render(root, app, arg) {
  const hsPath = `/v1/handsets/${encodeURIComponent(app.handsetId)}`;
  const [citiesAnswer, handset, cards] = await Promise.all([
    api('GET', '/v1/transit/cities'),
    api('GET', hsPath),
    app.cards(),
  ]);
  const cities = citiesAnswer.cities || [];
  const payable = cards.filter((c) => c.state === 'active' && app.myToken(c)?.state === 'active');
  const transitCards = handset.transit_cards || [];

  const cityOf = (tc) => tc.city || localStorage.getItem(kCityOfCard(tc.card_id)) ||
    cities.find((c) => String(tc.serial || '').startsWith(c.city_code))?.city_code || '';
  const cityByCode = (code) => cities.find((c) => c.city_code === code);

  const status = h('div', { id: 'transit-status', 'aria-live': 'polite' });
  const cardsBox = h('div', { id: 'transit-cards' });
  const screen = h('section', { class: 'screen', id: 'transit-screen' },
    h('h1', {}, 'Transit'),
    h('p', { class: 'lead' }, 'City transit cards live in the phone\'s secure element and pay gates offline, no fingerprint needed.'),
    status, cardsBox, openForm());
  root.replaceChildren(screen);

  // Card selection for paying fees and top-ups with a bank card's token on this phone.
  function tokenSelect() {
    return h('select', {}, payable.map((c) => h('option', { value: app.myToken(c).token_id, selected: c.is_default || undefined },
      `${c.bank?.short_name || ''} ${c.card_type} •••• ${c.last4}`)));
  }

  function openForm() {
    const open = new Set(transitCards.map(cityOf));
    const city = h('select', {}, cities.map((c) => h('option', { value: c.city_code, disabled: open.has(c.city_code) || undefined },
      `${c.name}${open.has(c.city_code) ? ' (you have a card)' : ''}${c.card_rules?.opening_fee_fen ? ` · fee ${fen(c.card_rules.opening_fee_fen)}` : ''}${c.card_rules?.deposit_fen ? ` · deposit ${fen(c.card_rules.deposit_fen)}` : ''}`)));
    const firstFree = cities.find((c) => !open.has(c.city_code));
    if (firstFree) city.value = arg && !open.has(arg) ? arg : firstFree.city_code;
    const token = tokenSelect();
    const form = h('form', { class: 'card-form', id: 'transit-open-form', novalidate: true },
      h('h2', {}, 'Open a transit card'),
      formError(),
      field('City', city, 'city'),
      field('Pay fees with', token, 'token_id'),
      h('button', { type: 'submit', class: 'primary' }, 'Open card'));
    if (payable.length === 0) {
      return h('p', { class: 'empty' }, 'Add an active bank card first (Cards) to pay for transit cards.');
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(form, async () => {
        const answer = await api('POST', `${hsPath}/transit/cards`, {
          body: { city: city.value, account_id: app.session.user_id, token_id: token.value },
        });
        const card = answer.card || answer;
        localStorage.setItem(kCityOfCard(card.card_id), card.city || city.value);
        app.notice = `${cityByCode(city.value)?.name || city.value} card opened.`;
        await render(root, app);
      }, 'city');
    });
    return form;
  }

  function cardPanel(tc, detail) {
    const code = cityOf(tc);
    const city = cityByCode(code);
    const rules = city?.card_rules || {};
    const trips = detail?.trips || [];
    const balance = detail?.balance_fen ?? tc.balance_fen ?? 0;
    const result = h('div', { class: 'ride-result', 'aria-live': 'polite' });

    // Top up.
    const amount = h('input', { type: 'text', inputmode: 'decimal', placeholder: rules.top_up_min_fen ? (rules.top_up_min_fen / 100).toFixed(2) : '50.00' });
    const token = tokenSelect();
    const topUp = h('form', { class: 'card-form inline-form top-up-form', novalidate: true },
      h('h3', {}, 'Top up'),
      formError(),
      h('div', { class: 'row' }, field('Amount (CNY)', amount, 'amount_fen',
        rules.top_up_min_fen ? `${fen(rules.top_up_min_fen)} – ${fen(rules.top_up_max_fen)}` : null),
        field('From', token, 'token_id')),
      h('button', { type: 'submit', class: 'primary' }, 'Top up'));
    topUp.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(topUp, async () => {
        const minor = parseAmount(amount.value, 'CNY', 'amount_fen');
        const answer = await api('POST', `${hsPath}/transit/cards/${encodeURIComponent(tc.card_id)}/top-ups`, {
          body: { amount_fen: minor, token_id: token.value }, idempotencyKey: true,
        });
        app.notice = `Topped up ${fen(minor)}: balance ${fen(answer.balance_fen)}.`;
        await render(root, app);
      }, 'amount_fen');
    });

    // Ride.
    // The handset API names the gate: a metro entry gate, a metro exit gate or a bus validator.
    const gate = h('select', {},
      city?.metro ? h('option', { value: 'metro_entry' }, 'Metro: enter') : null,
      city?.metro ? h('option', { value: 'metro_exit' }, 'Metro: exit') : null,
      city?.bus ? h('option', { value: 'bus' }, 'Bus validator') : null);
    const line = h('select', {});
    const station = h('select', {});
    const stationField = field('Station', station, 'station');
    function fillLines() {
      const metro = gate.value !== 'bus';
      const lines = metro ? (city?.metro?.lines || []) : (city?.bus?.lines?.length ? city.bus.lines : [{ id: 1, name: 'Bus 1' }]);
      line.replaceChildren(...lines.map((l) => h('option', { value: l.id },
        `${l.name}${!metro && l.fare_fen ? ` · ${fen(l.fare_fen)}` : ''}`)));
      fillStations();
    }
    function fillStations() {
      const metro = gate.value !== 'bus';
      stationField.hidden = !metro;
      if (!metro) return;
      const l = (city?.metro?.lines || []).find((x) => String(x.id) === line.value);
      station.replaceChildren(...(l?.stations || []).map((s) => h('option', { value: s.id }, s.name)));
    }
    let wasMetro = gate.value !== 'bus';
    gate.addEventListener('change', () => {
      // Entry and exit gates share the metro's lines and stations: keep the choice.
      if ((gate.value !== 'bus') !== wasMetro) fillLines();
      wasMetro = gate.value !== 'bus';
    });
    line.addEventListener('change', fillStations);
    fillLines();
    const ride = h('form', { class: 'card-form inline-form ride-form', novalidate: true },
      h('h3', {}, 'Ride'),
      formError(),
      h('div', { class: 'row' }, field('Gate', gate, 'gate'), field('Line', line, 'line')),
      stationField,
      h('button', { type: 'submit', class: 'primary tap-gate' }, 'Tap the gate'),
      result);
    ride.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(ride, async () => {
        const metro = gate.value !== 'bus';
        const body = { gate: gate.value, line: Number(line.value) };
        if (metro) body.station = Number(station.value);
        const r = await api('POST', `${hsPath}/transit/cards/${encodeURIComponent(tc.card_id)}/rides`, { body });
        const where = r.gate || (metro ? station.selectedOptions[0]?.textContent : line.selectedOptions[0]?.textContent);
        app.notice = '';
        status.replaceChildren();
        result.replaceChildren(h('div', { class: `gate ${r.open ? 'open' : 'closed'}`, 'data-open': String(!!r.open),
                                          'data-fare-fen': r.fare_fen ?? '', 'data-balance-fen': r.balance_fen ?? '' },
          h('strong', {}, r.open ? 'Gate open' : 'Gate closed'), ' · ', where,
          r.fare_fen !== undefined ? ` · fare ${fen(r.fare_fen)}` : '',
          r.discount_fen ? ` (discount ${fen(r.discount_fen)})` : '',
          r.penalty_fen ? ` · penalty ${fen(r.penalty_fen)}` : '',
          r.balance_fen !== undefined ? ` · balance ${fen(r.balance_fen)}` : '',
          r.reason ? ` · ${r.reason}` : '',
          r.blocked ? ' · the card is blocked' : ''));
        await refreshDetail();
      }, 'gate');
    });

    const balanceEl = h('div', { class: 'transit-balance' }, fen(balance));
    const tripsEl = h('ul', { class: 'trips' });
    function drawTrips(list) {
      tripsEl.replaceChildren(...(list.length ? list.map((t) => h('li', { class: 'trip' },
        h('span', {}, `${t.kind || ''} · ${t.where || ''}`),
        h('span', { class: 'trip-amount' }, t.amount_fen !== undefined ? fen(t.amount_fen) : ''),
        h('span', { class: 'muted small' }, typeof t.time === 'number' ? formatTime(t.time) : (t.time || ''))))
        : [h('li', { class: 'empty' }, 'No trips yet.')]));
    }
    drawTrips(trips);
    async function refreshDetail() {
      const d = await api('GET', `${hsPath}/transit/cards/${encodeURIComponent(tc.card_id)}`);
      balanceEl.textContent = fen(d.balance_fen);
      drawTrips(d.trips || []);
    }

    // Delete: the card is blocked in the phone, closed by the operator, and what the city
    // refunds is credited back to the bank card that paid last.
    const removeError = formError();
    const remove = h('div', { class: 'card-actions delete-form' }, removeError,
      confirmButton('Delete card and refund', 'Tap again: delete and refund', async () => {
        removeError.textContent = '';
        try {
          const r = await api('POST', `${hsPath}/transit/cards/${encodeURIComponent(tc.card_id)}/delete`);
          const refund = r.refund;
          app.notice = !refund ? `Card deleted; nothing to refund (balance ${fen(r.final_balance_fen)}).`
            : refund.state === 'paid' ? `Card deleted: ${fen(refund.amount_fen)} refunded to your bank card.`
              : `Card deleted: a refund of ${fen(refund.amount_fen)} is ${refund.state}${refund.last_error ? ` (${refund.last_error})` : ''}.`;
          await render(root, app);
        } catch (err) {
          removeError.textContent = err.message || String(err);
        }
      }, { class: 'danger small delete-transit-card' }));

    return h('article', { class: 'transit-card', 'data-card-id': tc.card_id, 'data-city': code },
      h('div', { class: 'transit-art' },
        h('span', { class: 'transit-city' }, city?.name || code || 'Transit'),
        handset.express_transit_card === tc.card_id ? h('span', { class: 'badge ok' }, 'Express') : null,
        balanceEl),
      ride, topUp,
      h('h3', {}, 'Trips'), tripsEl, remove);
  }

  if (app.notice) { status.replaceChildren(h('p', { class: 'ok-text' }, app.notice)); app.notice = ''; }
  if (transitCards.length === 0) {
    cardsBox.replaceChildren(h('p', { class: 'empty' }, 'No transit card on this phone yet.'));
  } else {
    const details = await Promise.all(transitCards.map((tc) =>
      api('GET', `${hsPath}/transit/cards/${encodeURIComponent(tc.card_id)}`).catch(() => null)));
    cardsBox.replaceChildren(...transitCards.map((tc, i) => cardPanel(tc, details[i])));
  }
  return undefined;
}
