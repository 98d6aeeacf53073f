// The operations console sees the wallet's payments: a cardholder adds a card and taps to pay on
// the phone (the wallet app, as the other journeys drive it); an operator signs in to the console
// (a wrong password first: inline error), watches the live charts count the traffic, finds the
// transaction by the card's last 4 digits with its masked ISO 8583 messages, suspends and resumes
// the card's token, runs a settlement cut-off and looks at transit clearing and the digital
// currency's supply.
import { demoCard } from '../lib/demo_cards.mjs';
import { signUp, addCard, tapToPay, homeMerchant } from '../lib/wallet.mjs';

const kConsoleUser = 'admin';                 // ServeConfig defaults ([console] in TOML)
const kConsolePassword = 'tapstack-console';
const kDesktop = { width: 1440, height: 900 };

export default async function journey({ page, context, baseUrl, shot, expect, apiCall, log }) {
  // --- The cardholder's phone: a card, a payment.
  await signUp(page, baseUrl);
  const card = demoCard({ kind: 'debit', index: 31 });
  const added = await addCard(page, card);
  const merchant = await homeMerchant(apiCall);
  const first = await tapToPay(page, { merchantId: merchant.merchant_id, amount: '23.45' });
  expect(first.approved, `the first tap is approved: ${first.text}`);

  // The card's token on this phone, from the wallet API with the app's own session.
  const wallet = await page.evaluate(() => JSON.parse(localStorage.getItem('tapstack.session') || 'null'));
  expect(wallet && wallet.session, 'the wallet app keeps its session');
  const cards = await apiCall('GET', '/v1/cards', undefined, { Authorization: `Bearer ${wallet.session}` });
  expect(cards.status === 200, `GET /v1/cards answers 200 (got ${cards.status})`);
  const walletCard = cards.body.cards.find((c) => c.last4 === added.last4);
  expect(walletCard && walletCard.tokens.length > 0, 'the card has a token on this phone');
  const token = walletCard.tokens[0];

  // --- The operator's desktop.
  const con = await context.newPage();
  await con.setViewportSize(kDesktop);
  await con.goto(`${baseUrl}/console/`);
  const signin = con.locator('#signin-form');
  await signin.waitFor();
  await signin.locator('input[name=user]').fill(kConsoleUser);
  await signin.locator('input[name=password]').fill('not-the-password');
  await signin.locator('button[type=submit]').click();
  const signinError = signin.locator('[data-error-for=form]');
  await signinError.waitFor({ state: 'visible' });
  expect(/wrong password/i.test(await signinError.innerText()), 'a wrong password shows an inline error');
  await shot('console-01-wrong-password', con);

  await signin.locator('input[name=password]').fill(kConsolePassword);
  await signin.locator('button[type=submit]').click();
  await con.locator('#console-screen').waitFor();
  expect(!(await con.locator('#charts-missing').isVisible()), 'chart.js is served at /vendor/chart.umd.js');

  // Live traffic while the console watches: one more tap on the phone.
  const second = await tapToPay(page, { merchantId: merchant.merchant_id, amount: '5.00' });
  expect(second.approved, `the second tap is approved: ${second.text}`);
  await con.waitForFunction(() => Number(document.getElementById('tps-chart-box').dataset.maxTps) > 0,
                            null, { timeout: 15_000 });
  const maxTps = await con.locator('#tps-chart-box').getAttribute('data-max-tps');
  log(`console: max ${maxTps} transactions/s in the last minute`);
  expect(Number(maxTps) > 0, 'the TPS chart counts the taps');
  await con.waitForFunction(() => document.querySelectorAll('#links-table tbody tr[data-ready=true]').length > 0);
  expect(await con.locator('#links-table tbody tr[data-ready=false]').count() === 0, 'every issuer link is up');
  await con.locator('#kpi-approval').filter({ hasText: '%' }).waitFor();
  await shot('console-02-live', con);

  // --- Transaction search: a full card number is refused inline, then the last 4 digits.
  const search = con.locator('#txn-search-form');
  await search.locator('input[name=card]').fill(card.pan);
  await search.locator('button[type=submit]').click();
  await search.locator('[data-error-for=card]').waitFor({ state: 'visible' });
  expect(/never takes a full card number/.test(await search.locator('[data-error-for=card]').innerText()),
         'a full card number gets an inline error');
  await search.locator('input[name=card]').fill(added.last4);
  await search.locator('button[type=submit]').click();
  const approvedTxn = con.locator('#txn-results article.txn[data-response-code="00"]');
  await approvedTxn.first().waitFor();
  expect(await approvedTxn.count() >= 2, `both taps are in the journal (found ${await approvedTxn.count()})`);
  const txn = approvedTxn.first();
  expect(await txn.locator('tr.msg').count() >= 4, 'the transaction shows its acquirer and issuer messages');
  await txn.locator('tr.msg details').first().click();
  await txn.locator('pre.json').first().waitFor();
  const shown = await con.content();
  expect(!shown.includes(card.pan), 'the console never shows the full card number');
  expect(shown.includes(`******${added.last4}`) || shown.includes(`*****${added.last4}`), 'the card shows masked');
  await shot('console-03-transaction', con);

  // --- Token lifecycle: a reason is required; suspend, then resume.
  const tokens = con.locator('#token-form');
  await tokens.locator('input[name=token_id]').fill(token.token_id);
  await tokens.locator('button[value=lookup]').click();
  await con.locator('#token-result .token-card[data-state=active]').waitFor();
  await tokens.locator('button[value=suspend]').click();
  await tokens.locator('[data-error-for=reason]').waitFor({ state: 'visible' });
  await tokens.locator('input[name=reason]').fill('customer reported the phone missing');
  await tokens.locator('button[value=suspend]').click();
  await con.locator('#token-result .token-card[data-state=suspended]').waitFor();
  await shot('console-04-token-suspended', con);
  const declined = await tapToPay(page, { merchantId: merchant.merchant_id, amount: '1.00' });
  expect(!declined.approved, `a tap with the suspended token is declined: ${declined.text}`);
  await tokens.locator('input[name=reason]').fill('customer found the phone');
  await tokens.locator('button[value=resume]').click();
  await con.locator('#token-result .token-card[data-state=active]').waitFor();

  // --- Settlement cut-off, per bank and currency.
  await con.locator('#cutoff-button').click();
  await con.locator('#settlement-table').waitFor();
  expect(await con.locator('#settlement-table tbody[data-currency=CNY]').count() === 1, 'the CNY positions are shown');

  // --- Transit clearing, and the digital currency's supply: issued = held.
  await con.waitForFunction(() => document.querySelectorAll('#transit-city option').length > 0);
  await con.locator('#transit-blacklist .hint').waitFor();
  await con.locator('#dcep-body[data-balanced=true]').waitFor();
  expect(await con.locator('#dcep-operators tbody tr').count() > 0, 'the e-CNY operators are listed');
  await shot('console-05-overview', con);
}
