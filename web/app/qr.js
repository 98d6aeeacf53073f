// QR payments on the tapstack Pay platform (tapstack-cn; the account's owner is the wallet user):
//  - balance and top-up from a card: POST …/accounts/{a}/top-ups → the phone's secure element
//    makes the in-app cryptogram (POST /v1/handsets/{id}/in-app-payments) → POST
//    …/top-ups/{order}/complete;
//  - "Scan": paste a merchant's code, or pick a picture of it (decoded by the server:
//    POST /v1/qr-images/decode with the picture's luminance),
//    POST …/scan shows merchant, city, amount and, abroad, the rate and markup BEFORE paying;
//    pay from the balance (…/payments) or through a quote (…/quotes, …/quotes/{q}/pay);
//  - "Show to pay": a one-time payment code (…/payment-codes) drawn as a QR image by the
//    server (POST /v1/qr-images → SVG), with its 18 digits, renewed every minute.
import { api } from './api.js';
import { h, field, formError, submitting, parseAmount, formatAmount, FieldError } from './ui.js';

const kPlatform = 'tapstack-cn';
const kBase = `/v1/qrpay/${kPlatform}`;
const kPaymentCodeRefreshMs = 60_000;
// A picture is scaled down so its longer side is at most this many pixels before it is sent: a
// phone photo (4000 px) would be 16 MB of luminance; a printed code still has several pixels a
// module at 1024 px.
const kQrImageSidePxMax = 1024;

// Reads the QR code in a picture: draw it on a canvas (scaled down to kQrImageSidePxMax), turn the
// pixels into 8-bit luminance (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B; transparent pixels count
// as white paper), POST /v1/qr-images/decode {width, height, gray: base64}. Returns the code's text;
// throws FieldError('image') when the picture cannot be read or holds no QR code.
async function decodeQrImage(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new FieldError('image', `image: "${file.name}" is not a picture the browser can read (PNG, JPEG, GIF, WebP)`);
  }
  const scale = Math.min(1, kQrImageSidePxMax / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const gray = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < gray.length; i++, p += 4) {
    gray[i] = Math.round(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]);
  }
  try {
    const answer = await api('POST', '/v1/qr-images/decode', { body: { width, height, gray: base64(gray) } });
    return answer.text;
  } catch (err) {
    // 422 no_qr_code says what to try ("a sharper or larger picture"); anything else is about the
    // picture too, as far as the person is concerned.
    if (err.code === 'no_qr_code') throw new FieldError('image', err.message || 'image: no QR code found in the picture');
    throw new FieldError('image', `image: ${err.message}`);
  }
}

function base64(bytes) {
  // btoa takes a binary string; build it in chunks (String.fromCharCode has an argument limit).
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

export async function render(root, app) {
  const cards = await app.cards();
  const payable = cards.filter((c) => c.state === 'active' && app.myToken(c)?.state === 'active');
  const opened = await api('POST', `${kBase}/accounts`, { body: { owner_id: app.session.user_id, level: 1 } });
  const accountId = opened.account.account_id;
  const accountPath = `${kBase}/accounts/${accountId}`;
  let account = opened.account;
  let codeTimer = null;
  const objectUrls = [];

  const balanceEl = h('div', { class: 'balance-amount', id: 'qr-balance' });
  const balanceSub = h('div', { class: 'muted small' });
  function drawAccount() {
    balanceEl.textContent = formatAmount(account.balance);
    balanceSub.textContent = `Level ${account.level} · available ${formatAmount(account.available)} · spent today ${formatAmount(account.spent_today)}`;
  }
  async function refreshAccount() {
    account = (await api('GET', accountPath)).account;
    drawAccount();
  }
  drawAccount();

  // --- Top-up from a card -----------------------------------------------------------------
  const topUpAmount = h('input', { type: 'text', inputmode: 'decimal', placeholder: '100.00' });
  const topUpCard = h('select', {}, payable.map((c) => h('option', { value: app.myToken(c).token_id, selected: c.is_default || undefined },
    `${c.bank?.short_name || ''} ${c.card_type} •••• ${c.last4}`)));
  const topUpResult = h('div', { 'aria-live': 'polite' });
  const topUp = h('form', { class: 'card-form', id: 'qr-top-up-form', novalidate: true },
    h('h2', {}, 'Top up from a card'),
    formError(),
    h('div', { class: 'row' }, field(`Amount (${account.balance.currency})`, topUpAmount, 'amount'),
      field('Card', topUpCard, 'token_id')),
    h('button', { type: 'submit', class: 'primary' }, 'Confirm with fingerprint'),
    topUpResult);
  topUp.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(topUp, async () => {
      if (payable.length === 0) throw new FieldError('token_id', 'token_id: add an active card first (Cards)');
      const currency = account.balance.currency;
      const minor = parseAmount(topUpAmount.value, currency, 'amount');
      const started = await api('POST', `${accountPath}/top-ups`, {
        body: { amount: { minor, currency }, device_id: app.handsetId },
      });
      const request = started.payment_request;
      const made = await api('POST', `/v1/handsets/${encodeURIComponent(app.handsetId)}/in-app-payments`, {
        body: { token_id: topUpCard.value, payment_request: request, fingerprint: true },
      });
      const done = await api('POST', `${kBase}/top-ups/${encodeURIComponent(request.order_id)}/complete`, {
        body: { payment_data: made.payment_data },
      });
      topUpResult.replaceChildren(h('p', { class: 'ok-text', id: 'top-up-done' },
        `Topped up ${formatAmount(done.receipt.amount)} (${done.receipt.reference || 'card'}).`));
      topUpAmount.value = '';
      await refreshAccount();
    }, 'amount');
  });

  // --- Scan a merchant's code -------------------------------------------------------------
  const payload = h('textarea', { rows: '4', placeholder: '000201010211…6304ABCD', spellcheck: 'false', autocomplete: 'off' });
  const image = h('input', { type: 'file', accept: 'image/*' });
  const scanResult = h('div', { id: 'scan-result', 'aria-live': 'polite' });
  const scanForm = h('form', { class: 'card-form', id: 'qr-scan-form', novalidate: true },
    h('h2', {}, 'Scan a merchant\'s code'),
    formError(),
    field('Code text', payload, 'payload', 'Paste the text of the merchant\'s QR code.'),
    field('…or a picture of the code', image, 'image', 'A photo or screenshot of the code: the server reads it.'),
    h('button', { type: 'submit', class: 'primary' }, 'Read code'));
  image.addEventListener('change', async () => {
    const file = image.files?.[0];
    if (!file) return;
    const text = await submitting(scanForm, () => decodeQrImage(file), 'image');
    if (text === undefined) return;  // the error is shown next to the picture field
    payload.value = text;
    scanForm.requestSubmit();
  });
  scanForm.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(scanForm, async () => {
      const text = payload.value.trim();
      if (!text) throw new FieldError('payload', 'payload: paste the merchant\'s code first');
      const answer = await api('POST', `${kBase}/scan`, { body: { payload: text } });
      drawScan(answer.scan, text);
    }, 'payload');
  });

  function fxLines(fx) {
    if (!fx) return null;
    return [
      h('dt', {}, 'Rate'), h('dd', { class: 'fx-rate' }, `1 ${fx.from?.currency} = ${fx.rate} ${fx.to?.currency}`,
        fx.rate_source ? ` (${fx.rate_source}${fx.business_date ? `, ${fx.business_date}` : ''})` : ''),
      h('dt', {}, 'Markup'), h('dd', { class: 'fx-markup' }, `${(fx.markup_bps / 100).toFixed(2)} %`),
      fx.from?.minor ? [h('dt', {}, 'You pay'), h('dd', {}, `${formatAmount(fx.to)} for ${formatAmount(fx.from)}`)] : null,
    ];
  }

  function drawScan(scan, text) {
    const amount = h('input', { type: 'text', inputmode: 'decimal', placeholder: '25.00' });
    const outcome = h('div', { class: 'pay-outcome', 'aria-live': 'polite' });
    const details = h('dl', { class: 'scan-details' },
      h('dt', {}, 'Merchant'), h('dd', { class: 'scan-merchant' }, scan.merchant_name),
      h('dt', {}, 'Where'), h('dd', { class: 'scan-city' }, `${scan.city}, ${scan.country}`),
      h('dt', {}, 'Currency'), h('dd', { class: 'scan-currency' }, scan.currency),
      scan.amount ? [h('dt', {}, 'Amount'), h('dd', { class: 'scan-amount' }, formatAmount(scan.amount))] : null,
      scan.foreign ? fxLines(scan.quote_preview) : null);
    const form = h('form', { class: 'card-form', id: 'qr-pay-form', novalidate: true },
      formError(),
      scan.amount ? null : field(`Amount (${scan.currency})`, amount, 'amount'),
      h('button', { type: 'submit', class: 'primary' }, scan.foreign ? 'See the price in your currency' : 'Pay from balance'),
      outcome);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(form, async () => {
        const body = { payload: text };
        if (!scan.amount) body.amount = { minor: parseAmount(amount.value, scan.currency, 'amount'), currency: scan.currency };
        if (!scan.foreign) {
          const r = await api('POST', `${accountPath}/payments`, { body, idempotencyKey: true });
          outcome.replaceChildren(receiptBox(r.receipt));
          form.querySelector('button[type=submit]').hidden = true;
          await refreshAccount();
          return;
        }
        const q = (await api('POST', `${accountPath}/quotes`, { body })).quote;
        const confirm = h('button', { type: 'button', class: 'primary', id: 'pay-quote' },
          `Pay ${formatAmount(q.payer_amount)}`);
        outcome.replaceChildren(h('div', { class: 'quote', 'data-quote-id': q.quote_id },
          h('dl', {},
            h('dt', {}, 'Merchant gets'), h('dd', {}, formatAmount(q.merchant_amount)),
            h('dt', {}, 'You pay'), h('dd', { class: 'quote-payer' }, formatAmount(q.payer_amount)),
            h('dt', {}, 'Rate'), h('dd', { class: 'fx-rate' }, `1 ${q.merchant_amount.currency} = ${q.rate} ${q.payer_amount.currency} (${q.rate_source}, ${q.business_date})`),
            h('dt', {}, 'Markup'), h('dd', { class: 'fx-markup' }, `${(q.markup_bps / 100).toFixed(2)} % included`),
            h('dt', {}, 'Valid until'), h('dd', {}, new Date(q.expires_unix_ms).toLocaleTimeString())),
          confirm));
        confirm.addEventListener('click', () => submitting(form, async () => {
          const r = await api('POST', `${accountPath}/quotes/${q.quote_id}/pay`, { body: {}, idempotencyKey: true });
          outcome.replaceChildren(receiptBox(r.receipt));
          form.querySelector('button[type=submit]').hidden = true;
          await refreshAccount();
        }));
      }, 'amount');
    });
    scanResult.replaceChildren(h('div', { class: 'scan-box' }, details, form));
  }

  function receiptBox(r) {
    return h('div', { class: 'receipt approved', id: 'qr-receipt', 'data-receipt-id': r.receipt_id },
      h('div', { class: 'receipt-head' }, 'Paid'),
      h('div', { class: 'receipt-amount' }, formatAmount(r.payer_amount || r.amount)),
      h('dl', {},
        h('dt', {}, 'Merchant'), h('dd', {}, r.merchant_name || r.merchant_id),
        h('dt', {}, 'Merchant gets'), h('dd', {}, formatAmount(r.amount)),
        r.rate ? [h('dt', {}, 'Rate'), h('dd', {}, `${r.rate} + ${(r.markup_bps / 100).toFixed(2)} %`)] : null,
        r.fee && r.fee.minor ? [h('dt', {}, 'Fee'), h('dd', {}, formatAmount(r.fee))] : null,
        h('dt', {}, 'Receipt'), h('dd', { class: 'mono small' }, r.receipt_id)));
  }

  // --- Show to pay ------------------------------------------------------------------------
  const codeBox = h('div', { id: 'payment-code', 'aria-live': 'polite' });
  const showButton = h('button', { type: 'button', class: 'primary', id: 'show-payment-code' }, 'Show payment code');
  const showForm = h('form', { class: 'card-form', id: 'qr-show-form', novalidate: true },
    h('h2', {}, 'Show to pay'),
    h('p', { class: 'hint' }, 'The cashier scans this code; it pays once from your balance and changes every minute.'),
    formError(), showButton, codeBox);
  async function showCode() {
    clearTimeout(codeTimer);
    const answer = await api('POST', `${accountPath}/payment-codes`, { body: { device_id: app.handsetId } });
    const pc = answer.payment_code;
    const res = await api('POST', '/v1/qr-images', { body: { text: pc.code }, raw: true });
    const url = URL.createObjectURL(await res.blob());
    objectUrls.push(url);
    while (objectUrls.length > 2) URL.revokeObjectURL(objectUrls.shift());
    const digits = pc.code.replace(/(\d{4})(?=\d)/g, '$1 ');
    codeBox.replaceChildren(h('figure', { class: 'payment-code' },
      h('img', { src: url, alt: `payment code ${pc.code}`, width: '220', height: '220', id: 'payment-code-image' }),
      h('figcaption', {},
        h('div', { class: 'code-digits mono', 'data-code': pc.code }, digits),
        h('div', { class: 'muted small' }, `Valid until ${new Date(pc.expires_unix_ms).toLocaleTimeString()}; renews every minute.`))));
    showButton.textContent = 'New code now';
    codeTimer = setTimeout(() => submitting(showForm, showCode), kPaymentCodeRefreshMs);
  }
  showButton.addEventListener('click', () => submitting(showForm, showCode));

  root.replaceChildren(h('section', { class: 'screen', id: 'qr-screen' },
    h('h1', {}, 'QR pay'),
    h('div', { class: 'balance-box' }, h('div', { class: 'muted small' }, 'tapstack Pay balance'), balanceEl, balanceSub),
    scanForm, scanResult, showForm, topUp));

  return () => {
    clearTimeout(codeTimer);
    objectUrls.forEach((u) => URL.revokeObjectURL(u));
  };
}
