// Sign up, add a card with the SMS code from the Messages panel (a wrong code first: inline error),
// add a second card and make it the default, tap to pay with the fingerprint (approved), and see
// the payment in the card's history.
import { demoCard } from '../lib/demo_cards.mjs';
import { signUp, addCard, tapToPay, homeMerchant } from '../lib/wallet.mjs';

export default async function journey({ page, baseUrl, shot, expect, apiCall }) {
  const user = await signUp(page, baseUrl);
  await shot('cards-01-signed-up');
  expect(await page.locator('#card-list .empty').isVisible(), 'a new wallet shows no cards');

  // First card (debit), with a wrong code first.
  const debit = demoCard({ kind: 'debit', index: 11 });
  const first = await addCard(page, debit, {
    onStep: async (step, data) => {
      if (step === 'otp-requested') await shot('cards-02-otp-requested');
      if (step === 'messages') {
        await shot('cards-03-messages-panel');
        expect(/\d{6}/.test(data.code), 'the Messages panel shows a 6-digit code');
      }
      if (step === 'before-verify') {
        const wrong = data.code.slice(0, 5) + String((Number(data.code[5]) + 1) % 10);
        await data.verify.locator('input[name=otp]').fill(wrong);
        await data.verify.locator('button[type=submit]').click();
        const err = data.verify.locator('[data-error-for=otp]');
        await err.waitFor({ state: 'visible' });
        const text = await err.innerText();
        expect(/otp/i.test(text) && /attempt/i.test(text), `a wrong code shows an inline error naming otp: "${text}"`);
        await shot('cards-04-wrong-otp');
      }
    },
  });
  await shot('cards-05-card-added');
  const firstItem = page.locator(`.card-item[data-last4="${first.last4}"]`);
  expect(await firstItem.locator('.card-art .default-badge').isVisible(), 'the first card is the default');
  expect(await firstItem.locator('.token-line [data-state=active]').isVisible(), 'the token on this phone is active');
  expect((await firstItem.locator('.bank-name').innerText()).length > 3, 'the card art shows the bank');

  // Second card (credit), then make it the default.
  const credit = demoCard({ kind: 'credit', index: 12 });
  const second = await addCard(page, credit, { kind: 'credit', knownCodes: first.codes });
  const secondItem = page.locator(`.card-item[data-last4="${second.last4}"]`);
  await secondItem.locator('.make-default').click();
  await page.locator(`.card-item[data-last4="${second.last4}"] .card-art .default-badge`).waitFor();
  expect(!(await page.locator(`.card-item[data-last4="${first.last4}"] .card-art .default-badge`).isVisible()),
         'only one default card');
  await shot('cards-06-default-chosen');

  // Pay with the default (preselected) card.
  const merchant = await homeMerchant(apiCall);
  await page.goto(`${baseUrl}/app/#/pay`);
  await page.locator('#pay-form').waitFor();
  const preselected = await page.locator('#pay-form select[name=token_id] option:checked').innerText();
  expect(preselected.includes(second.last4), `the default card is preselected (got "${preselected}")`);
  await shot('cards-07-pay-form');
  const receipt = await tapToPay(page, { merchantId: merchant.merchant_id, amount: '88.00' });
  await shot('cards-08-receipt');
  expect(receipt.approved, `the tap is approved: ${receipt.text}`);
  expect(receipt.responseCode === '00', `response code 00 (got ${receipt.responseCode})`);
  expect(/88\.00 CNY/.test(receipt.text), 'the receipt shows the amount');
  expect(receipt.text.includes(merchant.name), 'the receipt names the merchant');
  expect(/Approval code\s*\n?\s*\S+/.test(receipt.text), 'the receipt shows an approval code');

  // History of that card.
  await page.goto(`${baseUrl}/app/#/history`);
  await page.locator('#history-list .tx, #history-list .empty').first().waitFor();
  const tx = page.locator('#history-list .tx[data-approved=true]', { hasText: '88.00 CNY' });
  expect(await tx.count() === 1, 'the history shows the approved payment once');
  await shot('cards-09-history');

  // Sign out and in again: the same phone (kept in this browser) and its cards.
  await page.locator('#signout-button').click();
  const signin = page.locator('#signin-form');
  await signin.waitFor();
  await signin.locator('input[name=phone]').fill(user.phone);
  await signin.locator('input[name=password]').fill('not the password');
  await signin.locator('button[type=submit]').click();
  await signin.locator('.form-error.shown').waitFor();
  await signin.locator('input[name=password]').fill(user.password);
  await signin.locator('button[type=submit]').click();
  await page.locator(`.card-item[data-last4="${second.last4}"] .token-line [data-state=active]`).waitFor();
  await page.goto(`${baseUrl}/app/#/devices`);
  await page.locator('.device-item').first().waitFor();
  expect(await page.locator('.device-item').count() === 1, 'signing in again on this browser adds no second phone');
}
