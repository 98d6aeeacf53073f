// Small DOM helpers shared by the screens: element building, form fields with an inline error slot
// per field, money in minor units, and the meaning of ISO 8583 response codes. No alert(), ever:
// every error is shown next to the field it concerns or at the top of its form.
import { exponentOf } from './api.js';

// h('div', {class: 'x', onclick: fn}, child, 'text', [more]) → HTMLElement.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'style' && typeof v === 'object') {
      // setProperty: custom properties (--art) cannot be assigned as members.
      for (const [prop, val] of Object.entries(v)) el.style.setProperty(prop, val);
    }
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// A labelled input with its error slot: the slot's data-error-for is the API's field name.
export function field(label, input, name, hint) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 8)}`;
  input.id = id;
  if (!input.name) input.name = name;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('div', { class: 'hint' }, hint) : null,
    h('div', { class: 'field-error', 'data-error-for': name, role: 'alert' }));
}

// The form-level error slot (for errors that name no field of this form).
export function formError() {
  return h('div', { class: 'form-error', role: 'alert' });
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) {
    el.textContent = '';
    el.classList.remove('shown');
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// Puts `err` (an ApiError or {field, message}) next to its field in `form`: the API's `field`,
// else `fallbackField`, else the form-level slot. The text starts with the field's name so the
// user (and a test) sees which one is wrong.
export function showError(form, err, fallbackField) {
  clearErrors(form);
  const name = err.field || fallbackField || null;
  let slot = name ? form.querySelector(`[data-error-for="${CSS.escape(name)}"]`) : null;
  if (!slot && name && name.includes('.')) {
    // "amount.minor" → the "amount" input.
    slot = form.querySelector(`[data-error-for="${CSS.escape(name.split('.')[0])}"]`);
  }
  let text = err.message || String(err);
  if (name && !text.toLowerCase().startsWith(name.toLowerCase())) text = `${name}: ${text}`;
  if (!slot) slot = form.querySelector('.form-error');
  if (!slot) return;
  slot.textContent = text;
  slot.classList.add('shown');
  const input = name ? form.querySelector(`[name="${CSS.escape(name.split('.')[0])}"]`) : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

// Disables the form's buttons while `work` runs; errors go to showError.
export async function submitting(form, work, fallbackField) {
  clearErrors(form);
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((b) => { b.disabled = true; });
  form.classList.add('busy');
  try {
    return await work();
  } catch (err) {
    showError(form, err, fallbackField);
    return undefined;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    form.classList.remove('busy');
  }
}

// A local validation failure, shaped like an API error.
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

// "12.5" → 1250 for exponent 2. Throws FieldError(fieldName) for anything that is not a positive
// amount with at most `exponent` decimals (no exponent notation, no sign, no thousands separator).
export function parseAmount(text, currency, fieldName = 'amount') {
  const exponent = exponentOf(currency);
  const t = String(text ?? '').trim();
  const re = exponent > 0 ? new RegExp(`^(\\d{1,12})(?:\\.(\\d{1,${exponent}}))?$`) : /^(\d{1,15})$/;
  const m = re.exec(t);
  const example = exponent > 0 ? `12.${'5'.padEnd(exponent, '0')}` : '1250';
  if (!m) {
    throw new FieldError(fieldName, `${fieldName}: expected a positive amount in ${currency} with at most ` +
      `${exponent} decimals, e.g. ${example}; got "${t.slice(0, 20)}"`);
  }
  const minor = Number(m[1]) * 10 ** exponent + Number((m[2] || '').padEnd(exponent, '0') || 0);
  if (!Number.isSafeInteger(minor) || minor <= 0) {
    throw new FieldError(fieldName, `${fieldName}: expected an amount above zero in ${currency}`);
  }
  return minor;
}

export function formatMinor(minor, currency) {
  const exponent = exponentOf(currency);
  const neg = minor < 0;
  const abs = Math.abs(Number(minor));
  const whole = Math.floor(abs / 10 ** exponent);
  const frac = exponent > 0 ? '.' + String(abs % 10 ** exponent).padStart(exponent, '0') : '';
  return `${neg ? '-' : ''}${whole.toLocaleString('en-US')}${frac} ${currency}`;
}

export function formatAmount(amount) {
  return amount ? formatMinor(amount.minor, amount.currency) : '';
}

export function formatTime(unixMs) {
  if (!unixMs) return '';
  return new Date(unixMs).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

// ISO 8583:1987 DE39 values tapstack answers, and a few network-specific ones (docs/ISO8583.md).
const kResponseCodes = {
  '00': 'Approved',
  '01': 'Refer to card issuer',
  '03': 'Invalid merchant',
  '04': 'Pick up card',
  '05': 'Do not honour',
  '08': 'Honour with identification',
  '10': 'Approved for partial amount',
  '11': 'Approved (VIP)',
  '12': 'Invalid transaction',
  '13': 'Invalid amount',
  '14': 'Invalid card number (token not resolved: suspended, deleted or a replayed cryptogram)',
  '30': 'Format error',
  '41': 'Lost card',
  '43': 'Stolen card',
  '51': 'Not sufficient funds',
  '54': 'Expired card',
  '55': 'Incorrect PIN',
  '57': 'Transaction not permitted to cardholder',
  '58': 'Transaction not permitted to terminal',
  '59': 'Suspected fraud',
  '61': 'Exceeds withdrawal amount limit',
  '62': 'Restricted card',
  '65': 'Exceeds withdrawal frequency limit',
  '91': 'Issuer or switch inoperative',
  '94': 'Duplicate transmission',
  '96': 'System malfunction',
  N7: 'Decline for CVV2 failure',
  Z1: 'Declined offline by the card',
  Z3: 'Unable to go online: declined offline',
};

export function responseCodeMeaning(code) {
  return kResponseCodes[code] || 'Declined';
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

export function stateBadge(state) {
  const kind = { active: 'ok', suspended: 'warn', inactive: 'muted', deleted: 'bad', lost: 'warn',
                 pending_verification: 'muted' }[state] || '';
  return h('span', { class: `badge ${kind}`, 'data-state': state }, state.replace('_', ' '));
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading' }, text);
}

// A two-step button instead of confirm(): the first click arms it, the second does it.
export function confirmButton(label, confirmLabel, onConfirm, attrs = {}) {
  const btn = h('button', { type: 'button', class: 'danger', ...attrs }, label);
  let armed = false;
  let timer = null;
  btn.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      btn.textContent = confirmLabel;
      btn.classList.add('armed');
      timer = setTimeout(() => { armed = false; btn.textContent = label; btn.classList.remove('armed'); }, 5000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    btn.textContent = label;
    btn.classList.remove('armed');
    await onConfirm();
  });
  return btn;
}
