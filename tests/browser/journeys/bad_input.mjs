// Bad input in every form shows an inline message next to the field it names, and no API answer
// holds internal error text or a stack trace (run_journey checks every /v1/ answer the page got,
// and the malformed requests below).
import { demoCard } from '../lib/demo_cards.mjs';
import { signUp, addCard, openAddCard, fillCard, randomPhone, kPassword } from '../lib/wallet.mjs';

async function expectFieldError(page, form, field, expect, what) {
  const slot = form.locator(`[data-error-for="${field}"]`);
  await slot.waitFor({ state: 'visible' });
  const text = await slot.innerText();
  expect(text.toLowerCase().includes(field.split('_')[0]), `${what}: the message names "${field}" (got "${text}")`);
  expect((await form.locator(`[name="${field}"]`).getAttribute('aria-invalid')) === 'true', `${what}: ${field} is marked invalid`);
  return text;
}

export default async function journey({ page, baseUrl, shot, expect }) {
  // Sign-up: a bad phone, then a short password.
  await page.goto(`${baseUrl}/app/#/signup`);
  const signup = page.locator('#signup-form');
  await signup.locator('input[name=phone]').fill('12345');
  await signup.locator('input[name=password]').fill(kPassword);
  await signup.locator('button[type=submit]').click();
  await expectFieldError(page, signup, 'phone', expect, 'bad phone');
  await shot('bad_input-01-phone');
  const phone = randomPhone();
  await signup.locator('input[name=phone]').fill(phone);
  await signup.locator('input[name=password]').fill('short');
  await signup.locator('button[type=submit]').click();
  await expectFieldError(page, signup, 'password', expect, 'short password');
  expect(!(await signup.locator('[data-error-for=phone]').isVisible()), 'the phone error is gone once the phone is right');
  await shot('bad_input-02-password');
  await signUp(page, baseUrl, { phone });

  // Add a card: a PAN that fails Luhn, then a bad expiry.
  const card = demoCard({ kind: 'debit', index: 51 });
  let form = await openAddCard(page);
  const badLuhn = card.pan.slice(0, -1) + String((Number(card.pan.slice(-1)) + 1) % 10);
  await fillCard(form, { ...card, pan: badLuhn });
  await form.locator('button[type=submit]').click();
  await expectFieldError(page, form, 'pan', expect, 'bad PAN');
  await shot('bad_input-03-pan');
  await fillCard(form, { ...card, expiry: '13/29' });
  await form.locator('button[type=submit]').click();
  await expectFieldError(page, form, 'expiry', expect, 'bad expiry');
  await shot('bad_input-04-expiry');
  expect(await page.locator('.card-item').count() === 0, 'no card was kept after bad input');

  // A good card, then bad amounts at the POS.
  await addCard(page, card);
  await page.goto(`${baseUrl}/app/#/pay`);
  form = page.locator('#pay-form');
  await form.waitFor();
  for (const bad of ['12.345', 'abc', '0', '-5']) {
    await form.locator('input[name=amount_minor]').fill(bad);
    await page.locator('#fingerprint-button').click();
    const text = await expectFieldError(page, form, 'amount_minor', expect, `amount "${bad}"`);
    expect(text.includes('amount'), `the amount message says what is expected: ${text}`);
    if (bad === '12.345') await shot('bad_input-05-amount');
  }
  expect(await page.locator('#receipt .receipt').count() === 0, 'no tap was made with a bad amount');

  // Transit top-up: an amount that is not a number.
  await page.goto(`${baseUrl}/app/#/transit`);
  const open = page.locator('#transit-open-form');
  await open.waitFor();
  await open.locator('select[name=city]').selectOption('1000');
  await open.locator('button[type=submit]').click();
  const topUp = page.locator('.transit-card[data-city="1000"] .top-up-form');
  await topUp.waitFor();
  await topUp.locator('input[name=amount_fen]').fill('1.5x');
  await topUp.locator('button[type=submit]').click();
  await expectFieldError(page, topUp, 'amount_fen', expect, 'bad top-up amount');
  await shot('bad_input-06-top-up');

  // QR: a payload that is not a merchant code.
  await page.goto(`${baseUrl}/app/#/qr`);
  const scan = page.locator('#qr-scan-form');
  await scan.waitFor();
  await scan.locator('textarea[name=payload]').fill('hello, not a code');
  await scan.locator('button[type=submit]').click();
  await expectFieldError(page, scan, 'payload', expect, 'bad QR payload');
  await shot('bad_input-07-qr-payload');

  // Malformed requests straight at the API: every answer is a JSON error, never a crash.
  const probes = [
    ['POST', '/v1/users', '{"phone":'],
    ['POST', '/v1/users', '[]'],
    ['POST', '/v1/sessions', '{"phone":12,"password":null}'],
    ['POST', '/v1/handsets', '{"kind":"toaster","name":"","phone":"x"}'],
    ['POST', '/v1/handsets/hs-00/taps', '{"amount_minor":1e99}'],
    ['GET', '/v1/handsets/..%2F..%2Fetc/messages?after_unix_ms=-1', undefined],
    ['POST', '/v1/qr-images', '{"text":""}'],
    ['POST', `/v1/qrpay/tapstack-cn/scan`, '{"payload":"000201"}'],
    ['POST', '/v1/transit/1000/cards', '{}'],
  ];
  for (const [method, path, raw] of probes) {
    const r = await fetch(`${baseUrl}${path}`, { method, body: raw, headers: raw ? { 'Content-Type': 'application/json' } : {} });
    const text = await r.text();
    expect(r.status >= 400 && r.status < 500, `${method} ${path} ${raw ?? ''}: a 4xx (got ${r.status}: ${text.slice(0, 200)})`);
    let body = null;
    try { body = JSON.parse(text); } catch { /* checked below */ }
    expect(body && typeof body.error === 'string' && typeof body.message === 'string',
           `${method} ${path}: a JSON {error, message} (got ${text.slice(0, 200)})`);
    for (const bad of [/terminate/i, /what\(\):/, /Traceback/, /\n\s+at \S+/, /0x[0-9a-f]{8,} in /]) {
      expect(!bad.test(text), `${method} ${path}: the answer holds "${bad}": ${text.slice(0, 300)}`);
    }
  }
}
