// Digital currency (e-CNY style, docs/dcep.md): an online wallet at an operator and hardware
// wallets in the secure elements of this phone and the user's watches.
//  - Online: GET /v1/dcep/operators (operators, tiers, merchants); POST …/operators/{op}/wallets
//    (open: the tier follows the evidence); GET …/wallets/{w}; POST …/wallets/{w}/exchange
//    (deposits → e-CNY and back); POST …/wallets/{w}/payments (a merchant); GET …/wallets/{w}/history.
//    Every state-changing call carries an Idempotency-Key (the API refuses it without one).
//  - Hardware wallets: POST /v1/handsets/{id}/dcep (the SE generates its SM2 key pair, the operator
//    certifies it for the wallet), …/dcep/loads (the online wallet funds the device's offline
//    purse), …/dcep/offline-payments (device to device, APDUs only, both offline), …/dcep/sync
//    (the device's log goes to the operator, the acknowledgement comes back).
// The wallet's id is pseudonymous (drawn by the operator, not derived from the phone number), so
// the app keeps {operator, wallet_id} in localStorage per wallet user, like the handset id.
import { api, ApiError } from './api.js';
import { h, field, formError, submitting, parseAmount, formatMinor, formatTime, badge,
         FieldError } from './ui.js';

const kCurrency = 'CNY';
const kHistoryLimit = 50;
const walletKey = (userId) => `tapstack.dcep.wallet.${userId}`;

function fen(n) { return formatMinor(Number(n) || 0, kCurrency); }

// An offline payment refused by a device answers with the applet's ISO 7816 status word
// ("9401 insufficient balance (INS 62)", docs/dcep-offline.md): say what the person can do.
const kStatusWordHints = {
  '9401': ['amount_fen', 'the payer device holds less than that'],
  '6A84': ['amount_fen', 'a device\'s offline cap is reached or its log is full: sync both devices, then try again'],
};
function explainStatusWord(err) {
  const hint = kStatusWordHints[String(err.message || '').slice(0, 4).toUpperCase()];
  return hint ? new FieldError(hint[0], `${hint[0]}: ${hint[1]} (${err.message})`) : err;
}

function loadWalletRef(userId) {
  try {
    const ref = JSON.parse(localStorage.getItem(walletKey(userId)) || 'null');
    return ref && ref.operator && ref.wallet_id ? ref : null;
  } catch {
    return null;
  }
}

// What "0 = unlimited" limits look like to a person.
function limitText(n) { return Number(n) === 0 ? 'no limit' : fen(n); }

export async function render(root, app) {
  const directory = await api('GET', '/v1/dcep/operators');
  const operators = directory.operators || [];
  const merchants = directory.merchants || [];
  const tiers = (directory.tiers || []).slice().sort((a, b) => b.tier - a.tier);
  const operatorName = (id) => operators.find((o) => o.id === id)?.name || id;

  let ref = loadWalletRef(app.session.user_id);
  if (!ref && app.handsetId) {
    // The wallet's key is gone from localStorage but this phone was personalised: its hardware
    // wallet knows the wallet.
    try {
      const s = await api('GET', `/v1/handsets/${encodeURIComponent(app.handsetId)}/dcep`);
      if (s.operator && s.wallet_id) ref = { operator: s.operator, wallet_id: s.wallet_id };
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
    }
  }
  let wallet = null;
  if (ref) {
    try {
      wallet = (await api('GET', walletPath(ref))).wallet;
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
      // The server was reset (or the operator closed the wallet): open a new one.
      localStorage.removeItem(walletKey(app.session.user_id));
      ref = null;
    }
  }

  if (wallet) localStorage.setItem(walletKey(app.session.user_id), JSON.stringify(ref));
  const screen = h('section', { class: 'screen', id: 'dcep-screen' },
    h('h1', {}, 'Digital currency'),
    h('p', { class: 'lead' }, 'e-CNY, the central bank\'s digital cash: a wallet at an operator bank, and hardware wallets on your phone and watch that pay each other offline.'));
  root.replaceChildren(screen);
  if (!wallet) {
    screen.append(openForm());
    return undefined;
  }

  // --- The online wallet ------------------------------------------------------------------
  const base = walletPath(ref);
  const status = h('div', { id: 'dcep-status', 'aria-live': 'polite' });
  const balanceEl = h('div', { class: 'balance-amount', id: 'dcep-balance' });
  const balanceSub = h('div', { class: 'muted small', id: 'dcep-limits' });
  const historyEl = h('ul', { class: 'tx-list', id: 'dcep-history' });
  let devices = [];          // the wallet's phones and watches (GET /v1/devices)
  const deviceStatus = new Map();   // device_id → hardware-wallet status, or null (not personalised)
  const syncResults = new Map();    // device_id → the last sync's records
  const deviceName = (id) => devices.find((d) => d.device_id === id)?.name ||
    (String(id).startsWith('op-') ? `operator ${String(id).slice(3)}` : String(id).slice(0, 15));

  function drawWallet() {
    balanceEl.textContent = fen(wallet.balance_fen);
    const l = wallet.limits || {};
    balanceSub.textContent = `Tier ${wallet.tier} (${l.opened_with || ''}) · per payment ${limitText(l.payment_max_fen)} · ` +
      `per day ${limitText(l.daily_max_fen)}, spent today ${fen(wallet.spent_today_fen)} · holds up to ${limitText(l.balance_max_fen)}`;
  }
  async function refreshWallet() {
    wallet = (await api('GET', base)).wallet;
    drawWallet();
  }

  function entryRow(e) {
    const incoming = e.credit_wallet === ref.wallet_id;
    const merchant = merchants.find((m) => m.id === e.merchant_id);
    const what = {
      exchange_in: 'From your deposit account',
      exchange_out: 'To your deposit account',
      payment: incoming ? `From wallet ${e.debit_wallet || ''}` : `To ${merchant?.name || e.credit_wallet || ''}`,
      interbank_out: `To ${merchant?.name || e.counter_wallet || ''} at ${operatorName(e.counter_operator)}`,
      interbank_in: `From ${e.counter_wallet || ''} at ${operatorName(e.counter_operator)}`,
      purse_fund: `Loaded onto ${deviceName(e.device_id)}`,
      purse_defund: `Back from ${deviceName(e.device_id)}`,
    }[e.kind] || `${String(e.kind || '').replace(/_/g, ' ')}${e.device_id ? ` · ${deviceName(e.device_id)}` : ''}`;
    const refused = e.status !== 'posted';
    return h('li', { class: `tx ${refused ? 'declined' : 'approved'}`, 'data-kind': e.kind, 'data-status': e.status,
                     'data-amount-fen': e.amount_fen },
      h('div', { class: 'tx-main' },
        h('span', { class: 'tx-merchant' }, what),
        h('span', { class: 'tx-amount' }, `${incoming ? '+' : '−'}${fen(e.amount_fen)}`)),
      h('div', { class: 'tx-sub' }, formatTime(e.created_unix_ms), ' · ', e.status.replace('_', ' '),
        e.reason ? ` · ${e.reason}` : ''));
  }
  async function refreshHistory() {
    const answer = await api('GET', `${base}/history?limit=${kHistoryLimit}`);
    const entries = answer.entries || [];
    historyEl.replaceChildren(...(entries.length ? entries.map(entryRow)
                                                 : [h('li', { class: 'empty' }, 'Nothing yet.')]));
  }

  // Exchange: bank deposits ↔ e-CNY.
  const exAmount = h('input', { type: 'text', inputmode: 'decimal', placeholder: '1000.00' });
  const exDirection = h('select', {},
    h('option', { value: 'to_wallet' }, 'Deposits → e-CNY'),
    h('option', { value: 'to_deposit' }, 'e-CNY → deposits'));
  const exResult = h('div', { 'aria-live': 'polite' });
  const exchange = h('form', { class: 'card-form', id: 'dcep-exchange-form', novalidate: true },
    h('h2', {}, 'Exchange'),
    formError(),
    h('div', { class: 'row' }, field('Amount (CNY)', exAmount, 'amount_fen'), field('Direction', exDirection, 'direction')),
    h('button', { type: 'submit', class: 'primary' }, 'Exchange'),
    exResult);
  exchange.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(exchange, async () => {
      const minor = parseAmount(exAmount.value, kCurrency, 'amount_fen');
      await api('POST', `${base}/exchange`, { body: { amount_fen: minor, direction: exDirection.value },
                                             idempotencyKey: true });
      exResult.replaceChildren(h('p', { class: 'ok-text', id: 'dcep-exchanged' },
        `${exDirection.value === 'to_wallet' ? 'Exchanged' : 'Returned'} ${fen(minor)}.`));
      exAmount.value = '';
      await Promise.all([refreshWallet(), refreshHistory()]);
    }, 'amount_fen');
  });

  // Pay a merchant online.
  const merchant = h('select', {}, merchants.map((m) => h('option', { value: m.id },
    `${m.name}${m.operator !== ref.operator ? ` (${m.operator})` : ''}`)));
  const payAmount = h('input', { type: 'text', inputmode: 'decimal', placeholder: '25.00' });
  const payResult = h('div', { 'aria-live': 'polite' });
  const pay = h('form', { class: 'card-form', id: 'dcep-pay-form', novalidate: true },
    h('h2', {}, 'Pay a merchant'),
    formError(),
    field('Merchant', merchant, 'merchant_id', 'A merchant at another operator is paid through the central bank.'),
    field('Amount (CNY)', payAmount, 'amount_fen'),
    h('button', { type: 'submit', class: 'primary' }, 'Pay'),
    payResult);
  pay.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(pay, async () => {
      const minor = parseAmount(payAmount.value, kCurrency, 'amount_fen');
      const answer = await api('POST', `${base}/payments`, { body: { merchant_id: merchant.value, amount_fen: minor },
                                                            idempotencyKey: true });
      const entry = answer.entry || {};
      payResult.replaceChildren(h('div', { class: 'receipt approved', id: 'dcep-receipt', 'data-entry-id': entry.entry_id },
        h('div', { class: 'receipt-head' }, 'Paid'),
        h('div', { class: 'receipt-amount' }, fen(entry.amount_fen ?? minor)),
        h('dl', {},
          h('dt', {}, 'Merchant'), h('dd', {}, merchant.selectedOptions[0]?.textContent || merchant.value),
          h('dt', {}, 'Entry'), h('dd', { class: 'mono small' }, entry.entry_id || ''))));
      payAmount.value = '';
      await Promise.all([refreshWallet(), refreshHistory()]);
    }, 'amount_fen');
  });

  // --- Hardware wallets -------------------------------------------------------------------
  const devicesEl = h('div', { id: 'dcep-devices' });
  const offlineEl = h('div', { id: 'dcep-offline' });
  const hsPath = (id) => `/v1/handsets/${encodeURIComponent(id)}/dcep`;

  async function refreshDevices() {
    devices = ((await api('GET', '/v1/devices')).devices || []).filter((d) => d.state !== 'deleted');
    // This browser's phone first.
    devices.sort((a, b) => (b.device_id === app.handsetId) - (a.device_id === app.handsetId));
    await Promise.all(devices.map(async (d) => {
      try {
        deviceStatus.set(d.device_id, await api('GET', hsPath(d.device_id)));
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
        deviceStatus.set(d.device_id, null);
      }
    }));
    drawDevices();
    drawOffline();
  }

  function statusLines(s) {
    return h('dl', { class: 'hw-status' },
      h('dt', {}, 'Offline balance'), h('dd', { class: 'hw-balance', 'data-balance-fen': s.balance_fen }, fen(s.balance_fen)),
      h('dt', {}, 'Payments since sync'), h('dd', { class: 'hw-unsynced' },
        `${s.payments_since_sync ?? 0} · ${fen(s.value_since_sync_fen ?? 0)}`),
      h('dt', {}, 'Counter'), h('dd', { class: 'mono' }, String(s.counter ?? 0)));
  }

  function deviceCard(d) {
    const s = deviceStatus.get(d.device_id);
    const mine = d.device_id === app.handsetId;
    const usable = d.state === 'active';
    const body = [];
    if (!s) {
      const form = h('form', { class: 'card-form inline-form personalise-form', novalidate: true },
        formError(),
        h('p', { class: 'hint' }, `The ${d.kind}'s secure element makes its own key pair; ${operatorName(ref.operator)} certifies it for your wallet.`),
        h('button', { type: 'submit', class: 'primary', disabled: !usable || undefined }, 'Personalise'));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        submitting(form, async () => {
          await api('POST', hsPath(d.device_id), { body: { operator: ref.operator, wallet_id: ref.wallet_id } });
          await refreshDevices();
        });
      });
      body.push(h('p', { class: 'muted small' }, 'No hardware wallet yet.'), form);
    } else if (s.wallet_id && s.wallet_id !== ref.wallet_id) {
      body.push(statusLines(s), h('p', { class: 'muted small' }, `Personalised for wallet ${s.wallet_id} at ${operatorName(s.operator)}.`));
    } else {
      const amount = h('input', { type: 'text', inputmode: 'decimal', placeholder: '200.00' });
      const load = h('form', { class: 'card-form inline-form load-form', novalidate: true },
        formError(),
        h('div', { class: 'row' }, field('Load from the wallet (CNY)', amount, 'amount_fen'),
          h('button', { type: 'submit', class: 'primary load-button' }, 'Load')));
      load.addEventListener('submit', (e) => {
        e.preventDefault();
        submitting(load, async () => {
          const minor = parseAmount(amount.value, kCurrency, 'amount_fen');
          await api('POST', `${hsPath(d.device_id)}/loads`, { body: { amount_fen: minor }, idempotencyKey: true });
          status.replaceChildren(h('p', { class: 'ok-text' }, `Loaded ${fen(minor)} onto ${d.name}.`));
          await Promise.all([refreshWallet(), refreshHistory(), refreshDevices()]);
        }, 'amount_fen');
      });
      const sync = h('form', { class: 'card-form inline-form sync-form', novalidate: true },
        formError(),
        h('button', { type: 'submit', class: 'sync-button' }, 'Sync with the operator'));
      sync.addEventListener('submit', (e) => {
        e.preventDefault();
        submitting(sync, async () => {
          const answer = await api('POST', `${hsPath(d.device_id)}/sync`, { body: {} });
          syncResults.set(d.device_id, answer.records || []);
          await Promise.all([refreshWallet(), refreshHistory(), refreshDevices()]);
        });
      });
      body.push(statusLines(s), usable ? [load, sync] : h('p', { class: 'muted small' }, `This ${d.kind} is ${d.state}.`));
      const records = syncResults.get(d.device_id);
      if (records) body.push(syncList(records));
    }
    return h('article', { class: 'device-item hw-wallet', 'data-device-id': d.device_id, 'data-kind': d.kind,
                          'data-personalised': String(!!s) },
      h('div', { class: 'device-head' },
        h('span', { class: `device-icon ${d.kind}`, 'aria-hidden': 'true' }),
        h('span', { class: 'device-name' }, d.name),
        mine ? badge('this phone') : null,
        s ? badge('e-CNY', 'ok') : null),
      body);
  }

  function syncList(records) {
    return h('div', { class: 'sync-result' },
      h('h3', {}, records.length ? 'Last sync' : 'Last sync: nothing to upload'),
      records.length ? h('ul', { class: 'sync-records' }, records.map((r) => {
        const kind = { settled: 'ok', duplicate: 'muted' }[r.outcome] || 'warn';
        return h('li', { class: 'sync-record', 'data-outcome': r.outcome, 'data-log-sequence': r.log_sequence },
          h('span', {}, `#${r.log_sequence} · ${deviceName(r.payer_device_id)} → ${deviceName(r.payee_device_id)} · ${fen(r.amount_fen)} `),
          badge(r.outcome, kind),
          r.reason ? h('div', { class: 'muted small' }, r.reason) : null);
      })) : null);
  }

  function drawDevices() {
    devicesEl.replaceChildren(...(devices.length ? devices.map(deviceCard)
                                                 : [h('p', { class: 'empty' }, 'No devices in your wallet.')]),
      addWatchForm());
  }

  function addWatchForm() {
    const name = h('input', { type: 'text', autocomplete: 'off', value: 'My watch', maxlength: '64' });
    const form = h('form', { class: 'card-form inline-form', id: 'dcep-add-watch-form', novalidate: true },
      h('h3', {}, 'Add a watch'),
      formError(),
      h('div', { class: 'row' }, field('Name', name, 'name'),
        h('button', { type: 'submit', class: 'add-watch-button' }, 'Add watch')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(form, async () => {
        const label = name.value.trim();
        if (!label) throw new FieldError('name', 'name: give the watch a name');
        // A watch is a handset of kind "watch" (its own SE), registered with the wallet like the phone.
        const hs = await api('POST', '/v1/handsets', { body: { kind: 'watch', name: label, phone: app.session.phone } });
        await api('POST', '/v1/devices', {
          idempotencyKey: true,
          body: { device_id: hs.handset_id, kind: hs.kind || 'watch', name: hs.name, se_public_key: hs.se_public_key,
                  storage: 'se' },
        });
        status.replaceChildren(h('p', { class: 'ok-text' }, `${hs.name} added: personalise it to hold e-CNY.`));
        await refreshDevices();
      }, 'name');
    });
    return form;
  }

  // Offline payment between two personalised devices: payer → payee, both balances before/after.
  function drawOffline() {
    const ready = devices.filter((d) => d.state === 'active' && deviceStatus.get(d.device_id)?.wallet_id === ref.wallet_id);
    if (ready.length < 2) {
      offlineEl.replaceChildren(h('div', { class: 'card-form' }, h('h2', {}, 'Offline payment'),
        h('p', { class: 'empty' }, 'Personalise two devices (this phone and a watch) to pay between them offline.')));
      return;
    }
    const option = (d) => h('option', { value: d.device_id }, d.name);
    const payer = h('select', {}, ready.map(option));
    const payee = h('select', {}, ready.map(option));
    payer.value = ready[0].device_id;
    payee.value = ready[1].device_id;
    const amount = h('input', { type: 'text', inputmode: 'decimal', placeholder: '50.00' });
    const side = (cls, label, select, fieldName) => {
      const balance = h('div', { class: 'offline-balance' });
      return { el: h('div', { class: `offline-side ${cls}` }, field(label, select, fieldName), balance), balance };
    };
    const left = side('payer', 'Payer device', payer, 'payer_handset_id');
    const right = side('payee', 'Payee device', payee, 'payee_handset_id');
    const show = (slot, id, after) => {
      const before = deviceStatus.get(id)?.balance_fen ?? 0;
      slot.replaceChildren(
        h('div', { class: 'muted small' }, 'before'), h('div', { class: 'before', 'data-fen': before }, fen(before)),
        ...(after === undefined ? [] : [h('div', { class: 'muted small' }, 'after'),
          h('div', { class: 'after', 'data-fen': after }, fen(after))]));
    };
    const redrawBefore = () => { show(left.balance, payer.value); show(right.balance, payee.value); };
    payer.addEventListener('change', redrawBefore);
    payee.addEventListener('change', redrawBefore);
    redrawBefore();
    const result = h('div', { class: 'offline-result', 'aria-live': 'polite' });
    const form = h('form', { class: 'card-form', id: 'dcep-offline-form', novalidate: true },
      h('h2', {}, 'Offline payment'),
      h('p', { class: 'hint' }, 'The two devices talk only to each other (APDUs over NFC); the operator learns of it at the next sync.'),
      formError(),
      h('div', { class: 'offline-pair' }, left.el, h('div', { class: 'offline-arrow', 'aria-hidden': 'true' }, '→'), right.el),
      field('Amount (CNY)', amount, 'amount_fen'),
      h('button', { type: 'submit', class: 'primary' }, 'Pay offline'),
      result);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(form, async () => {
        if (payer.value === payee.value) throw new FieldError('payee_handset_id', 'payee_handset_id: pick another device than the payer');
        const minor = parseAmount(amount.value, kCurrency, 'amount_fen');
        const payerId = payer.value;
        const payeeId = payee.value;
        const held = deviceStatus.get(payerId)?.balance_fen ?? 0;
        if (minor > held) {
          throw new FieldError('amount_fen', `amount_fen: ${deviceName(payerId)} holds ${fen(held)} offline; ${fen(minor)} requested (load it first)`);
        }
        let answer;
        try {
          answer = await api('POST', `${hsPath(payerId)}/offline-payments`, {
            body: { payee_handset_id: payeeId, amount_fen: minor },
          });
        } catch (err) {
          throw err.field ? err : explainStatusWord(err);
        }
        const payerAfter = answer.payer?.balance_fen;
        const payeeAfter = answer.payee?.balance_fen;
        show(left.balance, payerId, payerAfter);
        show(right.balance, payeeId, payeeAfter);
        result.replaceChildren(h('p', { class: 'ok-text', id: 'dcep-offline-done', 'data-payer-after-fen': payerAfter,
                                        'data-payee-after-fen': payeeAfter },
          `Paid ${fen(answer.amount_fen ?? minor)} offline: ${deviceName(payerId)} ${fen(payerAfter)}, ` +
          `${deviceName(payeeId)} ${fen(payeeAfter)}`,
          answer.transfer_bytes ? ` (${answer.transfer_bytes} bytes over NFC)` : '', '.'));
        // The device cards show the new balances; this panel keeps its before/after.
        if (answer.payer) deviceStatus.set(payerId, answer.payer);
        if (answer.payee) deviceStatus.set(payeeId, answer.payee);
        drawDevices();
        amount.value = '';
      }, 'amount_fen');
    });
    offlineEl.replaceChildren(form);
  }

  drawWallet();
  screen.append(
    h('div', { class: 'balance-box', id: 'dcep-wallet', 'data-wallet-id': ref.wallet_id },
      h('div', { class: 'muted small' }, `e-CNY wallet at ${operatorName(ref.operator)}`),
      balanceEl,
      h('div', { class: 'mono small' }, ref.wallet_id),
      balanceSub),
    status,
    exchange,
    pay,
    h('h2', { class: 'section-title' }, 'Hardware wallets'),
    devicesEl,
    offlineEl,
    h('h2', { class: 'section-title' }, 'History'),
    historyEl);
  await Promise.all([refreshHistory(), refreshDevices()]);
  return undefined;

  function walletPath(r) {
    return `/v1/dcep/operators/${encodeURIComponent(r.operator)}/wallets/${encodeURIComponent(r.wallet_id)}`;
  }

  function openForm() {
    const operator = h('select', {}, operators.map((o) => h('option', { value: o.id }, o.name)));
    const phone = h('input', { type: 'tel', autocomplete: 'tel', value: app.session.phone || '' });
    const name = h('input', { type: 'text', autocomplete: 'name' });
    const idNumber = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
    const bankAccount = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off' });
    const tierHint = h('ul', { class: 'tier-table small muted' }, tiers.map((t) => h('li', {},
      `Tier ${t.tier} (${t.opened_with}): holds ${limitText(t.balance_max_fen)}, ${limitText(t.payment_max_fen)} a payment, ${limitText(t.daily_max_fen)} a day`)));
    const form = h('form', { class: 'card-form', id: 'dcep-open-form', novalidate: true },
      h('h2', {}, 'Open an e-CNY wallet'),
      formError(),
      field('Operator', operator, 'operator'),
      field('Phone number', phone, 'phone', 'A phone number alone opens a tier 4 wallet.'),
      field('Name (optional)', name, 'name'),
      field('ID number (optional)', idNumber, 'id_number', 'With your name: tier 3. Only its SHA-256 is kept.'),
      field('Bank account (optional)', bankAccount, 'bank_account', 'With the ID: tier 2. Kept masked.'),
      tierHint,
      h('button', { type: 'submit', class: 'primary' }, 'Open wallet'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(form, async () => {
        const evidence = { phone: phone.value.trim() };
        if (!evidence.phone) throw new FieldError('phone', 'phone: the wallet needs a phone number');
        if (name.value.trim()) evidence.name = name.value.trim();
        if (idNumber.value.trim()) evidence.id_number = idNumber.value.trim();
        if (bankAccount.value.trim()) evidence.bank_account = bankAccount.value.trim();
        const answer = await api('POST', `/v1/dcep/operators/${encodeURIComponent(operator.value)}/wallets`,
                                 { body: evidence, idempotencyKey: true });
        localStorage.setItem(walletKey(app.session.user_id),
                             JSON.stringify({ operator: answer.wallet.operator_id || operator.value, wallet_id: answer.wallet.wallet_id }));
        idNumber.value = '';
        bankAccount.value = '';
        await render(root, app);
      }, 'phone');
    });
    return form;
  }
}
