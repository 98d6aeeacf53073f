// Cards: the wallet's cards as card art (bank colour, bank, last 4, debit/credit, default badge,
// this phone's token state), adding a card with the SMS step, choosing the default, deleting.
// Calls: GET /v1/cards, POST /v1/cards, POST /v1/cards/{id}/verify, POST /v1/cards/{id}/default,
// DELETE /v1/cards/{id}, POST /v1/handsets/{id}/credentials.
import { api, newIdempotencyKey } from './api.js';
import { h, field, formError, submitting, stateBadge, badge, confirmButton } from './ui.js';

// A card's art: a CSS gradient from the bank's art_color, a chip, the masked number.
export function cardArt(card, token) {
  const color = /^#[0-9a-fA-F]{6}$/.test(card.bank?.art_color || '') ? card.bank.art_color : '#334155';
  return h('div', { class: 'card-art', style: { '--art': color }, 'data-card-id': card.card_id,
                    'data-last4': card.last4 },
    h('div', { class: 'card-top' },
      h('span', { class: 'bank-name' }, card.bank?.name || 'Bank card'),
      h('span', { class: 'card-type' }, (card.card_type || '').toUpperCase())),
    h('div', { class: 'chip', 'aria-hidden': 'true' }),
    h('div', { class: 'card-number', 'aria-label': `card ending ${card.last4}` },
      `•••• •••• •••• ${card.last4}`),
    h('div', { class: 'card-bottom' },
      h('span', { class: 'bank-short' }, card.bank?.short_name || ''),
      h('span', { class: 'expiry' }, card.pan_expiry ? `${card.pan_expiry.slice(2)}/${card.pan_expiry.slice(0, 2)}` : ''),
      card.is_default ? h('span', { class: 'default-badge' }, 'Default') : null),
    token ? h('div', { class: 'token-line' }, 'token ••', token.token_last4, ' ', stateBadge(token.state)) : null);
}

export async function render(root, app) {
  const notice = app.notice;
  app.notice = '';
  const list = h('div', { class: 'card-list', id: 'card-list' }, h('p', { class: 'loading' }, 'Loading cards…'));
  const addPanel = h('div', { id: 'add-card-panel' });
  const status = h('div', { class: 'status', role: 'status', id: 'cards-status' });
  root.replaceChildren(h('section', { class: 'screen', id: 'cards-screen' },
    h('h1', {}, 'Cards'),
    notice ? h('p', { class: 'notice' }, notice) : null,
    status,
    list,
    addPanel));

  let cards = [];
  let cardsMax = 8;
  // The card whose OTP form is open, with the verify call's idempotency key (a retry of an
  // installation failure replays the same verification and gets the same credentials again).
  let verifying = null;

  async function reload() {
    try {
      const answer = await api('GET', '/v1/cards');
      cards = answer.cards || [];
      cardsMax = answer.cards_max || 8;
    } catch (err) {
      list.replaceChildren(h('div', { class: 'form-error shown' }, `Cards: ${err.message}`));
      return;
    }
    draw();
  }

  function draw() {
    if (!app.handsetId) {
      status.replaceChildren(h('p', { class: 'form-error shown' },
        'This browser is not set up as a phone: open Devices to set it up.'));
    }
    if (cards.length === 0) {
      list.replaceChildren(h('p', { class: 'empty' }, 'No cards yet. Add your first bank card below.'));
    } else {
      list.replaceChildren(...cards.map(cardItem));
    }
    addPanel.replaceChildren(addCardForm(cards.length === 0));
  }

  function cardItem(card) {
    const token = app.myToken(card);
    const pending = card.state === 'pending_verification';
    const item = h('article', { class: 'card-item', 'data-card-id': card.card_id, 'data-last4': card.last4 },
      cardArt(card, token),
      h('div', { class: 'card-meta' },
        stateBadge(card.state),
        card.is_default ? badge('default', 'ok') : null,
        h('span', { class: 'muted' }, card.masked_pan),
        (card.tokens || []).filter((t) => t.device_id !== app.handsetId).map((t) =>
          h('span', { class: 'muted small' }, ` · on ${t.device_id.slice(0, 10)}… `, stateBadge(t.state)))),
      (card.promotions || []).length ? h('ul', { class: 'promotions' },
        card.promotions.map((p) => h('li', {}, p))) : null);
    const actions = h('div', { class: 'card-actions' });
    if (pending) {
      actions.append(h('button', { type: 'button', class: 'primary small verify-button',
                                   onclick: () => { verifying = { card, key: null }; drawVerify(item); } },
        'Enter the SMS code'));
    } else if (!card.is_default) {
      actions.append(h('button', { type: 'button', class: 'small make-default',
                                   onclick: () => act(() => api('POST', `/v1/cards/${card.card_id}/default`),
                                     `Card ending ${card.last4} is now your default card.`) }, 'Make default'));
    }
    actions.append(h('a', { class: 'button small', href: `#/history/${card.card_id}` }, 'History'));
    actions.append(confirmButton('Delete', 'Tap again to delete', () =>
      act(() => api('DELETE', `/v1/cards/${card.card_id}`),
          `Card ending ${card.last4} deleted.`), { class: 'danger small delete-card' }));
    item.append(actions);
    if (verifying && verifying.card.card_id === card.card_id) drawVerify(item);
    return item;
  }

  async function act(call, done) {
    status.replaceChildren();
    try {
      await call();
      status.replaceChildren(h('p', { class: 'ok-text' }, done));
    } catch (err) {
      status.replaceChildren(h('p', { class: 'form-error shown' }, err.message));
    }
    await reload();
  }

  function drawVerify(item) {
    item.querySelector('.verify-form')?.remove();
    const card = verifying.card;
    const otp = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
                             maxlength: '6', placeholder: '6 digits' });
    const form = h('form', { class: 'verify-form', novalidate: true },
      h('p', { class: 'hint' }, verifying.sentTo
        ? `Your bank sent a code by SMS to ${verifying.sentTo}. Open Messages (top right) to read it.`
        : 'Your bank sent a code by SMS. Open Messages (top right) to read it.'),
      formError(),
      field('Verification code', otp, 'otp'),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary' }, 'Verify'),
        h('button', { type: 'button', class: 'ghost', onclick: () => { verifying = null; form.remove(); } }, 'Later')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(form, async () => {
        const body = { otp: otp.value.trim() };
        // The same code again (after an installation failure) replays the stored answer.
        if (!verifying.key || verifying.otp !== body.otp) verifying.key = newIdempotencyKey();
        verifying.otp = body.otp;
        let answer;
        try {
          answer = await api('POST', `/v1/cards/${card.card_id}/verify`, { body, idempotencyKey: verifying.key });
        } catch (err) {
          if (err.code === 'otp_mismatch' && err.body.attempts_left !== undefined) {
            err.message = `otp: the code does not match; ${err.body.attempts_left} attempt(s) left`;
            err.field = 'otp';
          } else if (err.code === 'otp_expired') {
            err.message = 'otp: the code expired. Add the card again for a new code.';
            err.field = 'otp';
          } else if (err.code === 'otp_locked') {
            err.message = 'otp: too many wrong codes; the card was removed. Add it again.';
            err.field = 'otp';
          }
          throw err;
        }
        await installCredentials(answer.card, answer.credentials);
        verifying = null;
        status.replaceChildren(h('p', { class: 'ok-text', id: 'card-added' },
          `Card ending ${answer.card.last4} is ready to pay on this phone.`));
        await reload();
      }, 'otp');
    });
    item.append(form);
    otp.focus();
  }

  // Installs the TSP's wrapped credentials into this phone's secure element.
  async function installCredentials(card, credentials) {
    const token = app.myToken(card);
    if (!token) throw new Error('the card has no token for this phone');
    if (!credentials) throw new Error('the wallet returned no credentials to install');
    await api('POST', `/v1/handsets/${encodeURIComponent(app.handsetId)}/credentials`, {
      body: { token_id: token.token_id, credentials },
    });
  }

  function addCardForm(open) {
    const pan = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'cc-number',
                             placeholder: '6299 0150 0000 0039', maxlength: '23' });
    const expiry = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'cc-exp',
                                placeholder: 'MM/YY', maxlength: '5' });
    const cvv2 = h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'cc-csc',
                              placeholder: '3 digits', maxlength: '4' });
    const holder = h('input', { type: 'text', autocomplete: 'cc-name', placeholder: 'LI LEI' });
    const type = h('select', {},
      h('option', { value: 'debit' }, 'Debit'), h('option', { value: 'credit' }, 'Credit'));
    const form = h('form', { class: 'card-form', id: 'add-card-form', novalidate: true },
      formError(),
      field('Card type', type, 'card_type'),
      field('Card number', pan, 'pan'),
      h('div', { class: 'row' },
        field('Expiry (MM/YY)', expiry, 'expiry'),
        field('CVV2', cvv2, 'cvv2')),
      field('Name on the card', holder, 'holder_name'),
      h('button', { type: 'submit', class: 'primary' }, 'Add card'),
      h('p', { class: 'hint demo-hint' },
        'Demo cards: numbers in the seeded banks\' BIN ranges, e.g. Pearl River Commercial Bank debit ',
        h('code', {}, '62990150'), ' + a 7-digit index + the Luhn digit (index 3: ',
        h('code', {}, '6299015000000039'), '), expiry 12/29. The CVV2 is derived from the bank\'s demo ',
        'key: ', h('code', {}, 'tapstack demo cards'), ' prints a few with their CVV2.'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(form, async () => {
        if (!app.handsetId) throw new Error('this browser is not set up as a phone: open Devices');
        if (cards.length >= cardsMax) {
          throw Object.assign(new Error(`card: at most ${cardsMax} cards`), { field: 'card' });
        }
        const body = {
          device_id: app.handsetId,
          card_type: type.value,
          pan: pan.value.replace(/[\s-]/g, ''),
          expiry: expiry.value.trim(),
          cvv2: cvv2.value.trim(),
          holder_name: holder.value.trim(),
        };
        let answer;
        try {
          answer = await api('POST', '/v1/cards', { body, idempotencyKey: true });
        } catch (err) {
          if (err.code === 'card_declined') {
            err.message = `The bank declined the card: ${err.body.decline_reason || 'declined'}` +
                          (err.body.response_code ? ` (${err.body.response_code})` : '');
            if (err.body.response_code === 'N7') err.field = 'cvv2';
          }
          throw err;
        }
        // The PAN and CVV2 are not kept anywhere in the page.
        pan.value = ''; cvv2.value = '';
        if (answer.result === 'active') {
          await installCredentials(answer.card, answer.credentials);
          status.replaceChildren(h('p', { class: 'ok-text', id: 'card-added' },
            `Card ending ${answer.card.last4} is ready to pay on this phone.`));
          verifying = null;
        } else {
          verifying = { card: answer.card, key: null, sentTo: answer.otp?.sent_to };
          status.replaceChildren(h('p', { class: 'notice' },
            `Almost there: enter the code your bank sent to ${answer.otp?.sent_to || 'your phone'}.`));
        }
        await reload();
      }, 'pan');
    });
    return h('details', { class: 'add-card', open: open || undefined },
      h('summary', {}, 'Add a card'), form);
  }

  await reload();
}
