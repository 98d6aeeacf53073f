// Demo card numbers and their CVV2, computed exactly as the server's seed does, so a browser journey
// can type what a cardholder of a demo bank would read off the card. Nothing here is a secret: the
// demo keys are derived from published strings (src/demo/demo_keys.h: "They protect nothing").
//
//   PAN  = src/demo/demo_network.cc DemoCardNumber: the bank's first BIN range low bound (8 digits),
//          the index as 7 digits, the Luhn check digit.
//   CVV2 = src/crypto/card_verification.cc GenerateCardVerificationValue (the Visa CVV method) with
//          service code 000, expiry kDemoCardExpiry "2912" (YYMM), under the bank's CVK = the first
//          16 bytes of HMAC-SHA-256(SHA-256(kDemoCardVerificationMaster), institution id).
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const kDemoCardVerificationMaster =
  'tapstack demo key set: card verification key master (not a production secret)';
export const kDemoCardExpiryYymm = '2912';
// What the card shows and the wallet's form takes: MM/YY.
export const kDemoCardExpiryText = '12/29';

const here = dirname(fileURLToPath(import.meta.url));
const seedPath = join(here, '..', '..', '..', 'seed', 'demo_network.json');

export function luhnCheckDigit(payload) {
  let sum = 0;
  // Double every second digit from the right of the payload (the check digit's neighbour first).
  for (let i = 0; i < payload.length; i++) {
    let d = payload.charCodeAt(payload.length - 1 - i) - 48;
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(number) {
  return luhnCheckDigit(number.slice(0, -1)) === number.slice(-1);
}

function cardVerificationKey(institutionId) {
  const master = createHash('sha256').update(kDemoCardVerificationMaster).digest();
  return createHmac('sha256', master).update(institutionId).digest().subarray(0, 16);
}

// Encrypts one 8-byte block with single DES as three-key TDES with K1 = K2 = K3 (single DES is
// in OpenSSL 3's legacy provider only; DES-EDE3 with equal keys is the same function).
function desEcb(key8, block) {
  const c = createCipheriv('des-ede3', Buffer.concat([key8, key8, key8]), null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function tdes2Ecb(key16, block) {
  const c = createCipheriv('des-ede', key16, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

export function cardVerificationValue(institutionId, pan, expiryYymm, serviceCode = '000') {
  const cvk = cardVerificationKey(institutionId);
  const digits = (pan + expiryYymm + serviceCode).padEnd(32, '0');
  const input = Buffer.from(digits, 'hex');
  const block = desEcb(cvk.subarray(0, 8), input.subarray(0, 8));
  for (let i = 0; i < 8; i++) block[i] ^= input[8 + i];
  const out = tdes2Ecb(cvk, block).toString('hex').toUpperCase();
  const numeric = [...out].filter((c) => c >= '0' && c <= '9').join('');
  const letters = [...out].filter((c) => c >= 'A').map((c) => String(c.charCodeAt(0) - 65)).join('');
  return (numeric + letters).slice(0, 3);
}

export function loadSeed() {
  return JSON.parse(readFileSync(seedPath, 'utf8'));
}

// A demo card: { pan, expiry: 'MM/YY', cvv2, bank }. kind 'debit' | 'credit'. `bankId` defaults to
// the first bank whose ID&V asks for an OTP (the SMS step).
export function demoCard({ kind = 'debit', index = 0, bankId } = {}) {
  const seed = loadSeed();
  const bank = bankId
    ? seed.banks.find((b) => b.institution_id === bankId)
    : seed.banks.find((b) => (b.idv_decision ?? 'step_up') === 'step_up' &&
                             b.currency === 'CNY' && (b[`${kind}_bins`] ?? []).length > 0);
  if (!bank) throw new Error(`no demo bank issues ${kind} cards${bankId ? ` (${bankId})` : ''}`);
  const ranges = bank[`${kind}_bins`];
  if (!ranges || ranges.length === 0) throw new Error(`${bank.short_name} issues no ${kind} cards`);
  if (index < 0 || index >= bank.cardholders) throw new Error(`card index ${index} out of range`);
  const payload = ranges[0].low + String(index).padStart(7, '0');
  const pan = payload + luhnCheckDigit(payload);
  return {
    pan,
    expiry: kDemoCardExpiryText,
    cvv2: cardVerificationValue(bank.institution_id, pan, kDemoCardExpiryYymm),
    bank,
  };
}
