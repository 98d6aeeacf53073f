// Small DOM helpers shared by the console's panels.

// el('td', {class: 'num', dataset: {x: 1}}, 'text', childNode…)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Hides every inline error of `scope` (a form or a panel).
export function clearErrors(scope) {
  for (const p of scope.querySelectorAll('[data-error-for]')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const i of scope.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

// Shows `message` next to the field the API blamed (`field`), else in the scope's form-level slot
// (`fallback`, default "form").
export function showError(scope, field, message, fallback = 'form') {
  let slot = field ? scope.querySelector(`[data-error-for="${CSS.escape(field)}"]`) : null;
  if (slot && field) {
    const input = scope.querySelector(`[name="${CSS.escape(field)}"]`);
    if (input) input.setAttribute('aria-invalid', 'true');
  } else {
    slot = scope.querySelector(`[data-error-for="${CSS.escape(fallback)}"]`);
  }
  if (!slot) return;
  slot.textContent = message;
  slot.hidden = false;
}

// Minor units in a currency's exponent: formatMinor(123456, 'CNY') → "1,234.56 CNY".
const exponents = new Map([['JPY', 0], ['KRW', 0], ['VND', 0], ['IDR', 2], ['BHD', 3], ['KWD', 3]]);
export function setCurrencyExponents(list) {
  for (const c of list) exponents.set(c.code, c.exponent);
}
export function formatMinor(minor, currency) {
  if (minor === null || minor === undefined) return '–';
  const exp = exponents.has(currency) ? exponents.get(currency) : 2;
  const value = Number(minor) / 10 ** exp;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: exp, maximumFractionDigits: exp });
  return currency ? `${text} ${currency}` : text;
}

export function formatTime(unixMs) {
  const d = new Date(unixMs);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

export function formatDateTime(unixMs) {
  const d = new Date(unixMs);
  return `${d.toLocaleDateString('en-CA')} ${d.toLocaleTimeString('en-GB', { hour12: false })}`;
}

export function empty(text) {
  return el('p', { class: 'empty' }, text);
}
