// Pay: tap the phone at a simulated POS terminal. Pick a merchant (GET /v1/pos/merchants), an
// amount (decimal → minor units by the currency's exponent), a card (the default preselected),
// confirm with the (simulated) fingerprint, then POST /v1/handsets/{id}/taps and show the receipt.
import { api } from './api.js';
import { h, field, formError, submitting, parseAmount, formatMinor,
         responseCodeMeaning } from './ui.js';
import { cardArt } from './cards.js';

export async function render(root, app) {
  const [merchantsAnswer, cards] = await Promise.all([
    api('GET', '/v1/pos/merchants'),
    app.cards(),
  ]);
  const merchants = merchantsAnswer.merchants || [];
  const payable = cards.filter((c) => c.state === 'active' && app.myToken(c));

  const receipt = h('div', { id: 'receipt', 'aria-live': 'polite' });
  if (payable.length === 0) {
    root.replaceChildren(h('section', { class: 'screen', id: 'pay-screen' },
      h('h1', {}, 'Pay'),
      h('p', { class: 'empty' }, 'No card on this phone yet. ', h('a', { href: '#/cards' }, 'Add a card'), ' first.')));
    return undefined;
  }

  const merchant = h('select', {}, merchants.map((m) =>
    h('option', { value: m.merchant_id }, `${m.name} · ${m.city}, ${m.country} (${m.currency})`)));
  const amount = h('input', { type: 'text', inputmode: 'decimal', placeholder: '88.00', autocomplete: 'off' });
  const currencyLabel = h('span', { class: 'suffix' });
  const card = h('select', {}, payable.map((c) => h('option', { value: c.card_id, selected: c.is_default || undefined },
    `${c.bank?.short_name || ''} ${c.card_type} •••• ${c.last4}${c.is_default ? ' (default)' : ''}`)));
  const preview = h('div', { class: 'pay-card-preview' });
  const fingerprint = h('button', { type: 'submit', class: 'primary fingerprint', id: 'fingerprint-button' },
    h('span', { class: 'fp-icon', 'aria-hidden': 'true' }), 'Confirm with fingerprint');
  const noFingerprint = h('button', { type: 'button', class: 'ghost small', id: 'tap-without-fingerprint' },
    'Tap without the fingerprint');
  const form = h('form', { class: 'card-form', id: 'pay-form', novalidate: true },
    formError(),
    field('Where (a POS terminal)', merchant, 'merchant_id'),
    h('div', { class: 'field amount-field' },
      field('Amount', amount, 'amount_minor'), currencyLabel),
    field('Card', card, 'token_id'),
    preview,
    fingerprint,
    noFingerprint);

  const selectedMerchant = () => merchants.find((m) => m.merchant_id === merchant.value);
  const selectedCard = () => payable.find((c) => c.card_id === card.value);
  function update() {
    currencyLabel.textContent = selectedMerchant()?.currency || '';
    const c = selectedCard();
    preview.replaceChildren(c ? cardArt(c, app.myToken(c)) : '');
  }
  merchant.addEventListener('change', update);
  card.addEventListener('change', update);
  update();

  async function tap(withFingerprint) {
    const m = selectedMerchant();
    const c = selectedCard();
    const token = app.myToken(c);
    const minor = parseAmount(amount.value, m.currency, 'amount_minor');
    receipt.replaceChildren();
    if (withFingerprint) {
      fingerprint.classList.add('scanning');
      await new Promise((r) => setTimeout(r, 400));  // the sensor's moment, for the eye
      fingerprint.classList.remove('scanning');
    }
    const answer = await api('POST', `/v1/handsets/${encodeURIComponent(app.handsetId)}/taps`, {
      body: { token_id: token.token_id, merchant_id: m.merchant_id, amount_minor: minor,
              fingerprint: withFingerprint },
    });
    receipt.replaceChildren(receiptView(answer, m, c));
    receipt.scrollIntoView({ block: 'nearest' });
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(form, () => tap(true), 'amount_minor');
  });
  noFingerprint.addEventListener('click', () => submitting(form, () => tap(false), 'amount_minor'));

  root.replaceChildren(h('section', { class: 'screen', id: 'pay-screen' },
    h('h1', {}, 'Pay'),
    h('p', { class: 'lead' }, 'Hold the phone near the terminal, then confirm with your fingerprint.'),
    form,
    receipt));
  amount.focus();
  return undefined;
}

export function receiptView(r, merchant, card) {
  const currency = r.currency || merchant?.currency;
  return h('div', { class: `receipt ${r.approved ? 'approved' : 'declined'}`, 'data-approved': String(!!r.approved),
                    'data-response-code': r.response_code || '' },
    h('div', { class: 'receipt-head' }, r.approved ? 'Approved' : 'Declined'),
    h('div', { class: 'receipt-amount' }, r.amount_minor !== undefined ? formatMinor(r.amount_minor, currency) : ''),
    h('dl', {},
      h('dt', {}, 'Merchant'), h('dd', {}, r.merchant ? `${r.merchant.name}, ${r.merchant.city} (${r.merchant.country})` : merchant?.name),
      h('dt', {}, 'Card'), h('dd', {}, `token •••• ${r.token_last4 || ''}`, card ? ` (card •••• ${card.last4})` : ''),
      h('dt', {}, 'Response'), h('dd', { class: 'response-code' },
        `${r.response_code || '—'} · ${r.offline_decline ? 'declined offline by the card' : responseCodeMeaning(r.response_code)}`),
      r.approval_code ? [h('dt', {}, 'Approval code'), h('dd', { class: 'approval-code' }, r.approval_code)] : null,
      r.stan ? [h('dt', {}, 'STAN / RRN'), h('dd', {}, `${r.stan} / ${r.rrn || ''}`)] : null,
      r.message ? [h('dt', {}, 'Note'), h('dd', {}, r.message)] : null));
}
