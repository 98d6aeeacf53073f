// The "Messages" drawer: the SMS the demo network sent to this phone's number
// (GET /v1/handsets/{id}/messages, the TSP's SMS outbox). Always reachable from the top bar; it
// polls while a handset is set, and a message holding a 6-digit code offers to fill the OTP field.
import { api } from './api.js';
import { h } from './ui.js';

const kPollMs = 2000;
const kOtpRe = /\b(\d{6})\b/;

export class Messages {
  constructor(app) {
    this.app = app;
    this.handsetId = null;
    this.messages = [];
    this.seenCount = 0;
    this.timer = null;
    this.drawer = document.getElementById('messages-drawer');
    this.list = document.getElementById('messages-list');
    this.count = document.getElementById('messages-count');
    document.getElementById('messages-button').addEventListener('click', () => this.toggle());
    document.getElementById('messages-close').addEventListener('click', () => this.close());
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.close(); });
  }

  setHandset(id) {
    if (id === this.handsetId) return;
    this.handsetId = id;
    this.messages = [];
    this.seenCount = 0;
    clearInterval(this.timer);
    this.timer = null;
    this.renderList();
    if (id) {
      this.poll();
      this.timer = setInterval(() => this.poll(), kPollMs);
    }
  }

  get isOpen() { return !this.drawer.hidden; }

  toggle() { if (this.isOpen) this.close(); else this.open(); }

  async open() {
    this.drawer.hidden = false;
    document.getElementById('messages-button').setAttribute('aria-expanded', 'true');
    await this.poll();
    this.seenCount = this.messages.length;
    this.renderCount();
  }

  close() {
    this.drawer.hidden = true;
    document.getElementById('messages-button').setAttribute('aria-expanded', 'false');
  }

  // Fetches every message again (the outbox is small) and redraws when something changed.
  async poll() {
    if (!this.handsetId) return;
    const id = this.handsetId;
    try {
      const answer = await api('GET', `/v1/handsets/${encodeURIComponent(id)}/messages?after_unix_ms=0`);
      if (id !== this.handsetId) return;
      const messages = answer.messages || [];
      if (messages.length !== this.messages.length) {
        this.messages = messages;
        if (this.isOpen) this.seenCount = messages.length;
        this.renderList();
      }
      this.error = '';
    } catch (err) {
      this.error = err.message;
      if (this.isOpen) this.renderList();
    }
    this.renderCount();
  }

  renderCount() {
    const unread = this.messages.length - this.seenCount;
    this.count.textContent = unread > 0 ? String(unread) : '';
    this.count.classList.toggle('shown', unread > 0);
  }

  renderList() {
    const items = [...this.messages].sort((a, b) => b.time_unix_ms - a.time_unix_ms).map((m) => {
      const code = kOtpRe.exec(m.text || '');
      return h('li', { class: 'message' },
        h('div', { class: 'message-meta' }, 'SMS · ', new Date(m.time_unix_ms).toLocaleTimeString()),
        h('div', { class: 'message-text' }, m.text),
        code ? h('button', { type: 'button', class: 'small', 'data-code': code[1],
                             onclick: () => this.useCode(code[1]) }, `Use code ${code[1]}`) : null);
    });
    if (this.error) items.unshift(h('li', { class: 'form-error shown' }, `Messages: ${this.error}`));
    if (items.length === 0) {
      items.push(h('li', { class: 'empty' },
        this.handsetId ? 'No messages yet.' : 'This browser is not set up as a phone yet.'));
    }
    this.list.replaceChildren(...items);
  }

  // Fills the OTP field of the screen, if one is shown.
  useCode(code) {
    const input = document.querySelector('input[name="otp"]');
    if (input) {
      input.value = code;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      this.close();
      input.focus();
    }
  }
}
