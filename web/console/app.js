// The operations console: sign-in, then every panel on one desktop page.
import { api, ApiError, loadSession, saveSession, setUnauthenticatedHandler } from './api.js';
import { startDcep, stopDcep } from './dcep.js';
import { startLinks, stopLinks } from './links.js';
import { startLive, stopLive } from './live.js';
import { loadSettlement, setUpSettlement } from './settlement.js';
import { setUpTokens } from './tokens.js';
import { setUpTransactions } from './transactions.js';
import { setUpTransit } from './transit.js';
import { clearErrors, setCurrencyExponents, showError } from './ui.js';

const signinScreen = document.getElementById('signin-screen');
const consoleScreen = document.getElementById('console-screen');
let panelsReady = false;
const kSettlementPollMs = 10_000;  // the open cycle's record count
let settlementTimer = null;

function showSignIn(message) {
  stopLive();
  stopLinks();
  stopDcep();
  consoleScreen.hidden = true;
  document.getElementById('section-nav').hidden = true;
  document.getElementById('topbar-actions').hidden = true;
  signinScreen.hidden = false;
  const form = document.getElementById('signin-form');
  clearErrors(form);
  if (message) showError(form, null, message);
  form.user.focus();
}

async function showConsole() {
  signinScreen.hidden = true;
  consoleScreen.hidden = false;
  document.getElementById('section-nav').hidden = false;
  document.getElementById('topbar-actions').hidden = false;
  if (!panelsReady) {
    panelsReady = true;
    try {
      setCurrencyExponents((await api('GET', '/v1/currencies', { auth: false })).currencies);
    } catch { /* the built-in exponents are used */ }
    setUpTransactions();
    setUpTokens();
    setUpSettlement();
    setUpTransit();
  }
  startLive();
  startLinks();
  startDcep();
  loadSettlement();
  if (!settlementTimer) settlementTimer = setInterval(() => { if (loadSession()) loadSettlement(); }, kSettlementPollMs);
}

setUnauthenticatedHandler(() => {
  if (!loadSession()) return;
  saveSession(null);
  showSignIn('Your console session ended: sign in again.');
});

document.getElementById('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const user = form.user.value.trim();
  const password = form.password.value;
  if (!user) return showError(form, 'user', 'Enter the console user.');
  if (!password) return showError(form, 'password', 'Enter the password.');
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const s = await api('POST', '/v1/console/sessions', { body: { user, password }, auth: false });
    saveSession({ session: s.session, expires_unix_ms: s.expires_unix_ms, user });
    form.password.value = '';
    await showConsole();
  } catch (e) {
    if (e instanceof ApiError && e.status === 429) {
      showError(form, null, `Too many failed sign-ins: try again in ${e.body.retry_after_seconds} s.`);
    } else if (e instanceof ApiError && e.status === 401) {
      showError(form, null, 'Unknown user or wrong password.');
    } else {
      showError(form, e.field, e.message);
    }
  } finally {
    button.disabled = false;
  }
});

document.getElementById('signout-button').addEventListener('click', async () => {
  try {
    await api('DELETE', '/v1/console/sessions/current');
  } catch { /* signed out locally either way */ }
  saveSession(null);
  showSignIn();
});

setInterval(() => {
  document.getElementById('clock').textContent = new Date().toLocaleTimeString('en-GB', { hour12: false });
}, 1000);

if (loadSession()) showConsole();
else showSignIn();
