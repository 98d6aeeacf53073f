// Top up the tapstack Pay balance from a card, paste a merchant's printed code (scan), see the
// merchant and type the amount, pay from the balance; upload a picture of a Moscow merchant's code
// (a PNG made in the page; the server decodes it) — it fills the code field and shows the rate and
// markup before paying; a picture without a code is an inline error; show a payment code as a QR
// image.
import { demoCard } from '../lib/demo_cards.mjs';
import { signUp, addCard } from '../lib/wallet.mjs';
import { qrPng } from '../lib/qr_image.mjs';

const kPlatform = 'tapstack-cn';

async function staticCode(apiCall, merchant) {
  const { status, body } = await apiCall('GET', `/v1/qrpay/${kPlatform}/merchants/${merchant}/codes/static`);
  if (status !== 200 || !body.payload) throw new Error(`static code of ${merchant}: HTTP ${status}`);
  return body.payload;
}

export default async function journey({ page, baseUrl, shot, expect, apiCall }) {
  await signUp(page, baseUrl);
  await addCard(page, demoCard({ kind: 'debit', index: 41 }));

  await page.goto(`${baseUrl}/app/#/qr`);
  await page.locator('#qr-screen').waitFor();
  expect((await page.locator('#qr-balance').innerText()).includes('0.00 CNY'), 'a new account holds 0.00 CNY');

  const topUp = page.locator('#qr-top-up-form');
  await topUp.locator('input[name=amount]').fill('100');
  await topUp.locator('button[type=submit]').click();
  await page.locator('#top-up-done').waitFor();
  await page.locator('#qr-balance', { hasText: '100.00 CNY' }).waitFor();
  await shot('qr-01-topped-up');

  // A home merchant's printed code.
  const scan = page.locator('#qr-scan-form');
  await scan.locator('textarea[name=payload]').fill(await staticCode(apiCall, 'BJNOODLES01'));
  await scan.locator('button[type=submit]').click();
  const result = page.locator('#scan-result');
  await result.locator('.scan-merchant').waitFor();
  expect((await result.locator('.scan-merchant').innerText()) === 'Old Beijing Noodles', 'the scan shows the merchant');
  expect((await result.locator('.scan-city').innerText()).includes('Beijing'), 'the scan shows the city');
  await result.locator('input[name=amount]').fill('25.00');
  await shot('qr-02-scanned');
  await result.locator('#qr-pay-form button[type=submit]').click();
  await page.locator('#qr-receipt').waitFor();
  await page.locator('#qr-balance', { hasText: '75.00 CNY' }).waitFor();
  expect((await page.locator('#qr-receipt').innerText()).includes('25.00 CNY'), 'the receipt shows 25.00 CNY');
  await shot('qr-03-paid');

  // A picture without a code: an inline error at the picture field, nothing filled in.
  const imageInput = scan.locator('input[name=image]');
  expect(await imageInput.isEnabled(), 'the picture field is enabled (the server decodes pictures)');
  await scan.locator('textarea[name=payload]').fill('');
  await imageInput.setInputFiles({ name: 'blank.png', mimeType: 'image/png', buffer: await qrPng(page, null) });
  const imageError = scan.locator('[data-error-for="image"].shown');
  await imageError.waitFor();
  expect(/^image: no (readable )?QR code/i.test(await imageError.innerText()),
         `a blank picture says "image: no QR code": ${await imageError.innerText()}`);
  expect((await scan.locator('textarea[name=payload]').inputValue()) === '', 'a blank picture fills in nothing');
  await shot('qr-04-picture-without-code');

  // Abroad, from a picture of the code: the decoded text fills the form, then the rate and markup
  // before confirming.
  const moscowCode = await staticCode(apiCall, 'MOSARBAT01');
  await imageInput.setInputFiles({ name: 'arbat.png', mimeType: 'image/png', buffer: await qrPng(page, moscowCode) });
  await result.locator('.scan-merchant', { hasText: 'Arbat Souvenirs' }).waitFor();
  const decoded = await scan.locator('textarea[name=payload]').inputValue();
  expect(decoded === moscowCode, `the picture's code fills the code field (expected ${moscowCode.length} chars, got "${decoded.slice(0, 40)}…")`);
  expect(!(await imageError.isVisible()), 'the picture error is gone after a good picture');
  await shot('qr-05-scanned-from-picture');
  await result.locator('input[name=amount]').fill('500');
  await result.locator('#qr-pay-form button[type=submit]').click();
  const quote = result.locator('.quote');
  await quote.waitFor();
  const quoteText = await quote.innerText();
  expect(/1 RUB = [0-9.]+ CNY/.test(quoteText), `the quote shows the rate: ${quoteText}`);
  expect(/1\.00 % included/.test(quoteText), `the quote shows the markup: ${quoteText}`);
  expect(quoteText.includes('500.00 RUB'), 'the quote shows the merchant amount');
  await shot('qr-06-quote-abroad');
  await quote.locator('#pay-quote').click();
  await page.locator('#qr-receipt').waitFor();
  await shot('qr-07-paid-abroad');

  // Show to pay.
  await page.locator('#show-payment-code').click();
  const img = page.locator('#payment-code-image');
  await img.waitFor();
  await page.waitForFunction(() => {
    const i = document.getElementById('payment-code-image');
    return i && i.complete && i.naturalWidth > 0;
  });
  const width = await img.evaluate((i) => i.naturalWidth);
  expect(width > 0, 'the payment code image loaded');
  const code = await page.locator('.code-digits').getAttribute('data-code');
  expect(/^\d{18}$/.test(code), `an 18-digit payment code (got ${code})`);
  await img.scrollIntoViewIfNeeded();
  await shot('qr-08-payment-code');
}
