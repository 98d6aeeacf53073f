// Digital currency with hardware wallets: open an e-CNY wallet at ICBC (phone number prefilled:
// tier 4), exchange 1000.00 from deposits (a bad amount first: inline error), pay a merchant
// online, personalise this phone's secure element and a new watch's, load 200.00 onto the phone,
// pay 50.00 offline phone → watch (both balances before/after: 150.00 / 50.00), sync both with the
// operator: the watch's record settles, the phone's is then a duplicate (or settled: the operator
// decides which side's upload counts).
import { signUp } from '../lib/wallet.mjs';

const kOperator = 'icbc';
const kMerchant = 'm-beijing-coffee';   // an ICBC merchant (seed/dcep.json)
const kWatchName = "Li Lei's watch";

const fenOf = async (locator, attr) => Number(await locator.getAttribute(attr));

export default async function journey({ page, baseUrl, shot, expect }) {
  const { phone } = await signUp(page, baseUrl);

  // Open the wallet.
  await page.locator('#tabs a[data-route=dcep]').click();
  const open = page.locator('#dcep-open-form');
  await open.waitFor();
  expect((await open.locator('input[name=phone]').inputValue()) === phone,
         'the open form is prefilled with the user\'s phone number');
  await open.locator('select[name=operator]').selectOption(kOperator);
  await shot('dcep-01-open-wallet');
  await open.locator('button[type=submit]').click();
  const walletBox = page.locator('#dcep-wallet');
  await walletBox.waitFor();
  expect(/^w[0-9a-f]{16}$/.test(await walletBox.getAttribute('data-wallet-id')), 'a pseudonymous wallet id w + 16 hex');
  expect((await page.locator('#dcep-balance').innerText()) === '0.00 CNY', 'a new wallet holds 0.00 CNY');
  expect((await page.locator('#dcep-limits').innerText()).includes('Tier 4'), 'a wallet opened with a phone number is tier 4');

  // Exchange: a bad amount is an inline error next to the amount; then 1000.00.
  const exchange = page.locator('#dcep-exchange-form');
  await exchange.locator('input[name=amount_fen]').fill('10.005');
  await exchange.locator('button[type=submit]').click();
  const exError = exchange.locator('[data-error-for="amount_fen"].shown');
  await exError.waitFor();
  expect((await exError.innerText()).startsWith('amount_fen'), `the error names the field: ${await exError.innerText()}`);
  await exchange.locator('input[name=amount_fen]').fill('1000.00');
  await exchange.locator('button[type=submit]').click();
  await page.locator('#dcep-exchanged').waitFor();
  await page.locator('#dcep-balance', { hasText: '1,000.00 CNY' }).waitFor();
  await page.locator('#dcep-history .tx[data-kind=exchange_in][data-status=posted]').waitFor();
  await shot('dcep-02-exchanged');

  // Pay a merchant online.
  const pay = page.locator('#dcep-pay-form');
  await pay.locator('select[name=merchant_id]').selectOption(kMerchant);
  await pay.locator('input[name=amount_fen]').fill('12.34');
  await pay.locator('button[type=submit]').click();
  await page.locator('#dcep-receipt').waitFor();
  await page.locator('#dcep-balance', { hasText: '987.66 CNY' }).waitFor();
  expect((await page.locator('#dcep-history .tx[data-kind=payment]').first().innerText()).includes('Beijing Coffee Roasters'),
         'the history names the merchant');
  await shot('dcep-03-paid-merchant');

  // Personalise this phone's secure element.
  const phoneCard = page.locator('.hw-wallet[data-kind=phone]').first();
  await phoneCard.waitFor();
  await phoneCard.locator('.personalise-form button[type=submit]').click();
  await page.locator('.hw-wallet[data-kind=phone][data-personalised=true]').waitFor();
  const phoneId = await phoneCard.getAttribute('data-device-id');
  expect((await phoneCard.locator('.hw-balance').getAttribute('data-balance-fen')) === '0',
         'a personalised phone holds 0.00 offline');

  // A new watch, registered with the wallet, then personalised.
  const addWatch = page.locator('#dcep-add-watch-form');
  await addWatch.locator('input[name=name]').fill(kWatchName);
  await addWatch.locator('button[type=submit]').click();
  const watchCard = page.locator('.hw-wallet[data-kind=watch]', { hasText: kWatchName });
  await watchCard.waitFor();
  const watchId = await watchCard.getAttribute('data-device-id');
  expect(/^hs-[0-9a-f]{32}$/.test(watchId), `the watch is a handset hs-<32 hex> (got ${watchId})`);
  expect(watchId !== phoneId, 'the watch is another device than the phone');
  await watchCard.locator('.personalise-form button[type=submit]').click();
  await page.locator(`.hw-wallet[data-device-id="${watchId}"][data-personalised=true]`).waitFor();
  await shot('dcep-04-personalised');

  // Load 200.00 onto the phone: the wallet goes down, the phone's offline balance up.
  const phoneLoad = page.locator(`.hw-wallet[data-device-id="${phoneId}"] .load-form`);
  await phoneLoad.locator('input[name=amount_fen]').fill('200.00');
  await phoneLoad.locator('button[type=submit]').click();
  await page.locator(`.hw-wallet[data-device-id="${phoneId}"] .hw-balance[data-balance-fen="20000"]`).waitFor();
  await page.locator('#dcep-balance', { hasText: '787.66 CNY' }).waitFor();
  await page.locator('#dcep-history .tx[data-kind=purse_fund][data-status=posted]').waitFor();
  await shot('dcep-05-loaded-phone');

  // More than the device may hold offline: the server's refusal is shown at the amount.
  const watchLoad = page.locator(`.hw-wallet[data-device-id="${watchId}"] .load-form`);
  await watchLoad.locator('input[name=amount_fen]').fill('5000.00');
  await watchLoad.locator('button[type=submit]').click();
  const loadError = watchLoad.locator('[data-error-for="amount_fen"].shown');
  await loadError.waitFor();
  expect((await loadError.innerText()).startsWith('amount_fen:'), `the load error names amount_fen: ${await loadError.innerText()}`);
  expect((await page.locator('#dcep-balance').innerText()) === '787.66 CNY', 'a refused load moves nothing');

  // Offline: phone → watch 50.00, both devices offline.
  const offline = page.locator('#dcep-offline-form');
  await offline.waitFor();
  await offline.locator('select[name=payer_handset_id]').selectOption(phoneId);
  await offline.locator('select[name=payee_handset_id]').selectOption(watchId);
  expect(await fenOf(offline.locator('.payer .before'), 'data-fen') === 20000, 'the payer shows 200.00 before');
  expect(await fenOf(offline.locator('.payee .before'), 'data-fen') === 0, 'the payee shows 0.00 before');
  await offline.locator('input[name=amount_fen]').fill('50.00');
  await offline.locator('button[type=submit]').click();
  const done = page.locator('#dcep-offline-done');
  await done.waitFor();
  const payerAfter = await fenOf(offline.locator('.payer .after'), 'data-fen');
  const payeeAfter = await fenOf(offline.locator('.payee .after'), 'data-fen');
  expect(payerAfter === 15000, `the phone holds 150.00 after paying 50.00 (got ${payerAfter} fen)`);
  expect(payeeAfter === 5000, `the watch holds 50.00 after receiving 50.00 (got ${payeeAfter} fen)`);
  const panel = await offline.innerText();
  expect(panel.includes('150.00 CNY') && panel.includes('50.00 CNY'), `the panel shows both balances: ${panel}`);
  await page.locator(`.hw-wallet[data-device-id="${watchId}"] .hw-balance[data-balance-fen="5000"]`).waitFor();
  await page.locator(`.hw-wallet[data-device-id="${phoneId}"] .hw-balance[data-balance-fen="15000"]`).waitFor();
  expect((await page.locator('#dcep-balance').innerText()) === '787.66 CNY', 'an offline payment does not touch the online wallet');
  await offline.scrollIntoViewIfNeeded();
  await shot('dcep-06-offline-payment');

  // Bad input on the offline form: paying yourself is an inline error at the payee.
  await offline.locator('select[name=payee_handset_id]').selectOption(phoneId);
  await offline.locator('input[name=amount_fen]').fill('1.00');
  await offline.locator('button[type=submit]').click();
  await offline.locator('[data-error-for="payee_handset_id"].shown').waitFor();
  await offline.locator('select[name=payee_handset_id]').selectOption(watchId);
  await offline.locator('input[name=amount_fen]').fill('500.00');
  await offline.locator('button[type=submit]').click();
  const overError = offline.locator('[data-error-for="amount_fen"].shown');
  await overError.waitFor();
  expect((await overError.innerText()).includes('150.00 CNY'), `paying more than the phone holds says what it holds: ${await overError.innerText()}`);

  // Sync the watch: its received record settles at the operator.
  const watchSync = page.locator(`.hw-wallet[data-device-id="${watchId}"]`);
  await watchSync.locator('.sync-button').click();
  const watchRecord = watchSync.locator('.sync-record');
  await watchRecord.first().waitFor();
  const watchOutcomes = await watchRecord.evaluateAll((els) => els.map((e) => e.dataset.outcome));
  expect(watchOutcomes.length === 1 && watchOutcomes[0] === 'settled',
         `the watch's record settles (got ${watchOutcomes.join(', ')})`);
  expect((await watchRecord.first().innerText()).includes('50.00 CNY'), 'the record is the 50.00 payment');
  await shot('dcep-07-watch-synced');

  // Sync the phone: the same payment from the payer's side, already settled.
  const phoneSync = page.locator(`.hw-wallet[data-device-id="${phoneId}"]`);
  await phoneSync.locator('.sync-button').click();
  const phoneRecord = phoneSync.locator('.sync-record');
  await phoneRecord.first().waitFor();
  const phoneOutcomes = await phoneRecord.evaluateAll((els) => els.map((e) => e.dataset.outcome));
  expect(phoneOutcomes.length >= 1 && phoneOutcomes.every((o) => o === 'duplicate' || o === 'settled'),
         `the phone's records are duplicate or settled (got ${phoneOutcomes.join(', ')})`);
  await page.locator(`.hw-wallet[data-device-id="${phoneId}"] .hw-balance[data-balance-fen="15000"]`).waitFor();
  await page.locator(`.hw-wallet[data-device-id="${watchId}"] .hw-balance[data-balance-fen="5000"]`).waitFor();
  await shot('dcep-08-phone-synced');
}
