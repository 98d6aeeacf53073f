// With a card on the phone: "I lost this device" → the token is suspended and a tap is declined;
// "Found it" → the token is active again and a tap is approved.
import { demoCard } from '../lib/demo_cards.mjs';
import { signUp, addCard, tapToPay, homeMerchant } from '../lib/wallet.mjs';

async function deviceItem(page, baseUrl) {
  await page.goto(`${baseUrl}/app/#/devices`);
  const item = page.locator('.device-item', { has: page.locator('.badge', { hasText: 'this browser' }) });
  await item.waitFor();
  return item;
}

export default async function journey({ page, baseUrl, shot, expect, apiCall }) {
  await signUp(page, baseUrl);
  const card = await addCard(page, demoCard({ kind: 'debit', index: 21 }));
  const merchant = await homeMerchant(apiCall);

  const before = await tapToPay(page, { merchantId: merchant.merchant_id, amount: '12.50' });
  expect(before.approved, `a tap before the loss is approved: ${before.text}`);

  let item = await deviceItem(page, baseUrl);
  await shot('lost_device-01-devices');
  expect((await item.getAttribute('data-state')) === 'active', 'the phone starts active');
  await item.locator('.lost-button').click();
  await page.locator('#device-report .token-reports [data-state=suspended]').waitFor();
  item = page.locator('.device-item[data-state=lost]');
  await item.waitFor();
  expect(await item.locator('.token-states [data-state=suspended]').count() === 1,
         'the card\'s token on the lost phone shows suspended');
  await shot('lost_device-02-marked-lost');

  await page.goto(`${baseUrl}/app/#/cards`);
  await page.locator(`.card-item[data-last4="${card.last4}"] .token-line [data-state=suspended]`).waitFor();
  await shot('lost_device-03-card-suspended');

  const declined = await tapToPay(page, { merchantId: merchant.merchant_id, amount: '12.50' });
  await shot('lost_device-04-tap-declined');
  expect(!declined.approved, `a tap with the lost phone is declined: ${declined.text}`);
  expect(declined.responseCode && declined.responseCode !== '00', `a decline code (got ${declined.responseCode})`);

  item = await deviceItem(page, baseUrl);
  await item.locator('.found-button').click();
  await page.locator('#device-report .token-reports [data-state=active]').waitFor();
  item = page.locator('.device-item[data-state=active]', { has: page.locator('.badge', { hasText: 'this browser' }) });
  await item.waitFor();
  expect(await item.locator('.token-states [data-state=active]').count() === 1, 'the token is active again');
  await shot('lost_device-05-found');

  const after = await tapToPay(page, { merchantId: merchant.merchant_id, amount: '12.50' });
  await shot('lost_device-06-tap-approved');
  expect(after.approved, `a tap after "found" is approved: ${after.text}`);
}
