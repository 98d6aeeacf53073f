// Steps of the wallet web app that several journeys share, driven the way a person would: through
// the screens, reading the SMS code from the Messages panel.
import { randomInt } from 'node:crypto';

export function randomPhone() {
  // +86 138 and 8 random digits: a fresh wallet user per journey.
  return `+86138${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
}

export const kPassword = 'correct horse battery';

export async function signUp(page, baseUrl, { phone = randomPhone(), password = kPassword } = {}) {
  await page.goto(`${baseUrl}/app/#/signup`);
  const form = page.locator('#signup-form');
  await form.locator('input[name=phone]').fill(phone);
  await form.locator('input[name=password]').fill(password);
  await form.locator('button[type=submit]').click();
  await page.locator('#cards-screen').waitFor();
  return { phone, password };
}

// Opens the Messages drawer and returns the newest message holding a 6-digit code, waiting until
// there are more than `known` such messages.
export async function readOtpFromMessages(page, { known = 0 } = {}) {
  await page.locator('#messages-button').click();
  const codes = page.locator('#messages-list button[data-code]');
  await page.waitForFunction((n) => document.querySelectorAll('#messages-list button[data-code]').length > n,
                             known, { timeout: 20_000 });
  const code = await codes.first().getAttribute('data-code');
  const text = await page.locator('#messages-list .message-text').first().textContent();
  return { code, text, count: await codes.count() };
}

export async function closeMessages(page) {
  if (await page.locator('#messages-drawer').isVisible()) await page.locator('#messages-close').click();
}

export async function openAddCard(page) {
  await page.goto(page.url().replace(/#.*$/, '#/cards'));
  await page.locator('#cards-screen').waitFor();
  const details = page.locator('details.add-card');
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  return page.locator('#add-card-form');
}

export async function fillCard(form, card, { kind = 'debit', holder = 'LI LEI' } = {}) {
  await form.locator('select[name=card_type]').selectOption(kind);
  await form.locator('input[name=pan]').fill(card.pan);
  await form.locator('input[name=expiry]').fill(card.expiry);
  await form.locator('input[name=cvv2]').fill(card.cvv2);
  await form.locator('input[name=holder_name]').fill(holder);
}

// Adds `card` and verifies it with the SMS code. Returns the card's last 4 digits.
export async function addCard(page, card, { kind = 'debit', knownCodes = 0, onStep } = {}) {
  const form = await openAddCard(page);
  await fillCard(form, card, { kind });
  await form.locator('button[type=submit]').click();
  const verify = page.locator('.verify-form');
  await verify.waitFor();
  if (onStep) await onStep('otp-requested');
  const { code, count } = await readOtpFromMessages(page, { known: knownCodes });
  if (onStep) await onStep('messages', { code });
  await closeMessages(page);
  if (onStep) await onStep('before-verify', { code, verify });
  await verify.locator('input[name=otp]').fill(code);
  await verify.locator('button[type=submit]').click();
  await page.locator('#card-added').waitFor();
  return { last4: card.pan.slice(-4), codes: count };
}

// Taps at the POS: merchant by id, amount as typed, with or without the fingerprint. Returns the
// receipt's approved flag and response code.
export async function tapToPay(page, { merchantId, amount, fingerprint = true, cardLast4 } = {}) {
  await page.goto(page.url().replace(/#.*$/, '#/pay'));
  const form = page.locator('#pay-form');
  await form.waitFor();
  if (merchantId) await form.locator('select[name=merchant_id]').selectOption(merchantId);
  if (cardLast4) {
    const value = await form.locator('select[name=token_id] option', { hasText: `•••• ${cardLast4}` }).first().getAttribute('value');
    await form.locator('select[name=token_id]').selectOption(value);
  }
  await form.locator('input[name=amount_minor]').fill(amount);
  await page.locator(fingerprint ? '#fingerprint-button' : '#tap-without-fingerprint').click();
  const receipt = page.locator('#receipt .receipt');
  await receipt.waitFor();
  return {
    approved: (await receipt.getAttribute('data-approved')) === 'true',
    responseCode: await receipt.getAttribute('data-response-code'),
    text: await receipt.innerText(),
  };
}

// The first CNY merchant of the POS list (GET /v1/pos/merchants).
export async function homeMerchant(apiCall) {
  const { status, body } = await apiCall('GET', '/v1/pos/merchants');
  if (status !== 200) throw new Error(`GET /v1/pos/merchants answered ${status}`);
  const m = body.merchants.find((x) => x.currency === 'CNY');
  if (!m) throw new Error('no CNY merchant in GET /v1/pos/merchants');
  return m;
}
