// The wallet web app: a hash router over one module per screen, the sign-in screen, and this
// browser's handset (the phone whose secure element and NFC radio the server emulates: the browser
// is its screen). The session and the handset id live in localStorage.
import { api, ApiError, currencies, handsetKey, loadSession, saveSession,
         setUnauthenticatedHandler } from './api.js';
import { h, field, formError, submitting } from './ui.js';
import { Messages } from './messages.js';
import * as cards from './cards.js';
import * as pay from './pay.js';
import * as history from './history.js';
import * as devices from './devices.js';
import * as transit from './transit.js';
import * as qr from './qr.js';
import * as dcep from './dcep.js';

const screens = { cards, pay, history, devices, transit, qr, dcep };
// Screens that talk to this browser's handset.
const kNeedsHandset = new Set(['pay', 'transit', 'qr', 'dcep']);
const screenEl = document.getElementById('screen');
const tabs = document.getElementById('tabs');
const topActions = document.querySelector('.topbar-actions');

// What the screens share.
const app = {
  session: null,      // {session, user_id, phone, expires_unix_ms}
  handsetId: null,    // "hs-…": this browser's phone, also its wallet device_id
  messages: null,
  notice: '',         // one-shot text for the next screen (e.g. "signed out")
  navigate(route) { location.hash = `#/${route}`; },
  // GET /v1/cards
  async cards() { return (await api('GET', '/v1/cards')).cards; },
  // The card's token on this browser's handset, or undefined.
  myToken(card) { return (card.tokens || []).find((t) => t.device_id === app.handsetId); },
};

let cleanup = null;

function route() {
  const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(location.hash);
  return { name: m ? m[1] : '', arg: m && m[2] ? decodeURIComponent(m[2]) : '' };
}

async function render() {
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  const { name, arg } = route();
  if (!app.session) {
    tabs.hidden = true;
    topActions.hidden = true;
    if (name !== 'signin' && name !== 'signup') { location.replace('#/signin'); return; }
    renderSignIn(name === 'signup');
    return;
  }
  tabs.hidden = false;
  topActions.hidden = false;
  const screen = screens[name];
  if (!screen) { location.replace('#/cards'); return; }
  for (const a of tabs.querySelectorAll('a')) {
    a.classList.toggle('active', a.dataset.route === name);
    if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!app.handsetId && kNeedsHandset.has(name)) {
    screenEl.replaceChildren(h('section', { class: 'screen' },
      h('p', { class: 'notice' }, 'This browser is not set up as a phone yet. ',
        h('a', { href: '#/devices' }, 'Set it up on the Devices screen'), '.')));
    return;
  }
  screenEl.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  try {
    cleanup = await screen.render(screenEl, app, arg);
  } catch (err) {
    screenEl.replaceChildren(h('section', { class: 'screen' },
      h('div', { class: 'form-error shown', role: 'alert' }, `Could not load this screen: ${err.message}`)));
  }
}

function renderSignIn(signUp) {
  const phone = h('input', { type: 'tel', autocomplete: 'tel', placeholder: '+8613800138000', required: true });
  const password = h('input', { type: 'password', autocomplete: signUp ? 'new-password' : 'current-password', required: true });
  const form = h('form', { class: 'card-form', id: signUp ? 'signup-form' : 'signin-form', novalidate: true },
    formError(),
    field('Phone number (E.164)', phone, 'phone', 'A + and the country code, e.g. +8613800138000'),
    field('Password', password, 'password', signUp ? 'At least 8 characters' : null),
    h('button', { type: 'submit', class: 'primary' }, signUp ? 'Create account' : 'Sign in'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(form, async () => {
      const creds = { phone: phone.value.trim(), password: password.value };
      if (signUp) await api('POST', '/v1/users', { body: creds, auth: false });
      const s = await api('POST', '/v1/sessions', { body: creds, auth: false });
      saveSession({ session: s.session, user_id: s.user_id, phone: creds.phone,
                    expires_unix_ms: s.expires_unix_ms });
      app.session = loadSession();
      try {
        await ensureHandset();
      } catch (err) {
        // Keep the session: the handset can be set up later from the Devices screen.
        app.notice = `This browser's phone could not be set up: ${err.message}`;
      }
      startSignedIn();
      app.navigate('cards');
    });
  });
  const notice = app.notice ? h('p', { class: 'notice' }, app.notice) : null;
  app.notice = '';
  screenEl.replaceChildren(h('section', { class: 'screen auth' },
    h('h1', {}, signUp ? 'Create your wallet' : 'Sign in'),
    notice,
    h('p', { class: 'lead' }, signUp
      ? 'Your phone number is where the bank sends verification codes.'
      : 'Sign in with your phone number and password.'),
    form,
    h('p', { class: 'switch' }, signUp
      ? h('a', { href: '#/signin' }, 'I have an account: sign in')
      : h('a', { href: '#/signup', id: 'to-signup' }, 'New here? Create an account'))));
  phone.focus();
}

// This browser's handset: the one saved for this user if the server still knows it, else a new
// phone (POST /v1/handsets) registered with the wallet as a device (POST /v1/devices).
async function ensureHandset({ forceNew = false } = {}) {
  const key = handsetKey(app.session.user_id);
  let id = forceNew ? null : localStorage.getItem(key);
  if (id) {
    try {
      await api('GET', `/v1/handsets/${encodeURIComponent(id)}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
      id = null;  // the server was reset: this browser needs a new phone
    }
  }
  if (!id) {
    const hs = await api('POST', '/v1/handsets', {
      body: { kind: 'phone', name: `Web phone ${new Date().toISOString().slice(0, 10)}`,
              phone: app.session.phone },
    });
    await api('POST', '/v1/devices', {
      idempotencyKey: true,
      body: { device_id: hs.handset_id, kind: hs.kind || 'phone', name: hs.name,
              se_public_key: hs.se_public_key, storage: 'se' },
    });
    id = hs.handset_id;
    localStorage.setItem(key, id);
  }
  app.handsetId = id;
  app.messages?.setHandset(id);
  return id;
}

function startSignedIn() {
  app.handsetId = localStorage.getItem(handsetKey(app.session.user_id));
  app.messages.setHandset(app.handsetId);
}

async function signOut(notice = '') {
  if (app.session) {
    try { await api('DELETE', '/v1/sessions/current'); } catch { /* ends anyway */ }
  }
  saveSession(null);
  app.session = null;
  app.handsetId = null;
  app.messages.setHandset(null);
  app.notice = notice;
  location.hash = '#/signin';
  render();
}

setUnauthenticatedHandler(() => {
  if (app.session) signOut('Your session ended: please sign in again.');
});

async function main() {
  app.ensureHandset = ensureHandset;
  app.messages = new Messages(app);
  document.getElementById('signout-button').addEventListener('click', () => signOut('Signed out.'));
  try { await currencies(); } catch { /* amounts fall back to 2 decimals */ }
  app.session = loadSession();
  if (app.session) {
    startSignedIn();
    if (!app.handsetId) {
      try { await ensureHandset(); } catch (err) { app.notice = err.message; }
    }
  }
  window.addEventListener('hashchange', render);
  await render();
}

main();
