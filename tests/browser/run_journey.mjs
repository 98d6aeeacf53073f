#!/usr/bin/env node
// Runs one browser journey against a freshly started `tapstack serve`:
//
//   node run_journey.mjs --tapstack <binary> --journey <name> --shots <dir> [--keep-data] [--headed]
//
// 1. picks two free ports below 32768 (above it the kernel hands out ephemeral ports, which a
//    reconnecting client could take between our probe and the server's bind);
// 2. starts `tapstack serve --reset --data-dir <tmp> --http-port P --iso8583-port Q`, waits for
//    GET /health and for the wallet app at /app/;
// 3. launches Debian's chromium (/usr/bin/chromium, or $CHROMIUM) through playwright-core with a
//    fresh temporary profile, a 390 x 844 phone viewport;
// 4. runs journeys/<name>.mjs: `export default async function journey({ page, context, baseUrl,
//    shot, expect, ... })`, where shot(name) saves <shots>/<name>.png and expect(cond, what)
//    throws Error(what) when cond is false;
// 5. fails the journey on: an exception, an alert()/confirm() dialog (forms show inline errors),
//    an uncaught error in the page, or an API answer whose body holds "terminate", "what():" or a
//    stack trace;
// 6. SIGTERMs the server, removes the temporary directories, exits 0 or 1 (2 for bad usage).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const kHealthTimeoutMs = 90_000;
const kJourneyTimeoutMs = 150_000;
const kShutdownTimeoutMs = 15_000;
const kPortLow = 20_000;
const kPortHigh = 32_000;  // below the Linux ephemeral range (32768-60999)
// What must never be in an API answer: C++ exception text and stack traces.
const kLeakPatterns = [/terminate called/i, /\bterminate\b/i, /what\(\):/, /\n\s+at \S+ \(/, /#\d+\s+0x[0-9a-f]+ in /i,
                       /Traceback \(most recent call last\)/];

function usage(message) {
  console.error(`run_journey: ${message}`);
  console.error('usage: node run_journey.mjs --tapstack <binary> --journey <name> --shots <dir> [--keep-data] [--headed]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { keepData: false, headed: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--tapstack') opts.tapstack = value();
    else if (a === '--journey') opts.journey = value();
    else if (a === '--shots') opts.shots = value();
    else if (a === '--keep-data') opts.keepData = true;
    else if (a === '--headed') opts.headed = true;
    else usage(`unknown option ${a}`);
  }
  if (!opts.tapstack) usage('--tapstack is required');
  if (!opts.journey) usage('--journey is required');
  if (!/^[a-z0-9_]+$/.test(opts.journey)) usage(`--journey: expected [a-z0-9_]+, got "${opts.journey}"`);
  if (!opts.shots) usage('--shots is required');
  return opts;
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function freePorts(count) {
  const ports = new Set();
  for (let attempt = 0; attempt < 500 && ports.size < count; attempt++) {
    const p = kPortLow + Math.floor(Math.random() * (kPortHigh - kPortLow));
    if (!ports.has(p) && await portIsFree(p)) ports.add(p);
  }
  if (ports.size < count) throw new Error(`no ${count} free ports in ${kPortLow}-${kPortHigh}`);
  return [...ports];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForHttp(url, server, timeoutMs, accept = (r) => r.ok) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`tapstack serve exited (${server.exitCode ?? server.signalCode}) before ${url} answered`);
    }
    try {
      const r = await fetch(url, { redirect: 'manual' });
      if (accept(r)) return r;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.cause?.code || e.message;
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s (last: ${last})`);
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopServer(server) {
  if (server.exitCode !== null || server.signalCode !== null) return server.exitCode;
  const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve(code ?? signal)));
  server.kill('SIGTERM');
  const outcome = await Promise.race([exited, sleep(kShutdownTimeoutMs).then(() => 'timeout')]);
  if (outcome === 'timeout') {
    server.kill('SIGKILL');
    await exited;
    throw new Error(`tapstack serve did not stop within ${kShutdownTimeoutMs / 1000} s of SIGTERM`);
  }
  return outcome;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const journeyFile = path.join(here, 'journeys', `${opts.journey}.mjs`);
  if (!existsSync(journeyFile)) usage(`no journey ${journeyFile}`);
  if (!existsSync(opts.tapstack)) usage(`--tapstack: ${opts.tapstack} does not exist`);
  const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) {
    console.error(`run_journey: chromium not found at ${chromiumPath} (scripts/bootstrap installs Debian's chromium; or set CHROMIUM)`);
    process.exit(1);
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    console.error(`run_journey: playwright-core is not installed: run \`npm ci\` in ${here} (${e.message})`);
    process.exit(1);
  }
  mkdirSync(opts.shots, { recursive: true });

  const work = mkdtempSync(path.join(os.tmpdir(), `tapstack-browser-${opts.journey}-`));
  const dataDir = path.join(work, 'data');
  const profileDir = path.join(work, 'chromium-profile');
  const logFile = path.join(work, 'serve.log');
  const [httpPort, isoPort] = await freePorts(2);
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const log = (...a) => console.log(`[${opts.journey}]`, ...a);

  log(`tapstack serve on ${baseUrl} (ISO 8583 ${isoPort}), data ${dataDir}`);
  const logFd = openSync(logFile, 'a');
  const server = spawn(opts.tapstack, ['serve', '--reset', '--data-dir', dataDir,
                                       '--http-port', String(httpPort), '--iso8583-port', String(isoPort)],
                       { stdio: ['ignore', logFd, logFd] });
  server.on('error', (e) => log(`cannot start ${opts.tapstack}: ${e.message}`));

  let context = null;
  let failure = null;
  const leaks = [];
  const pageErrors = [];
  const dialogs = [];
  try {
    await waitForHttp(`${baseUrl}/health`, server, kHealthTimeoutMs);
    const appAnswer = await waitForHttp(`${baseUrl}/app/`, server, 10_000, () => true);
    if (!appAnswer.ok) {
      throw new Error(`the server does not serve the wallet app at /app/ (HTTP ${appAnswer.status}): ` +
                      'the static file serving of web/ is missing from tapstack serve');
    }

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: chromiumPath,
      headless: !opts.headed,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      locale: 'en-GB',
      timezoneId: 'Asia/Shanghai',
    });
    context.setDefaultTimeout(20_000);
    const page = context.pages()[0] || await context.newPage();
    const watch = (p) => {
      p.on('dialog', async (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        await d.dismiss().catch(() => {});
      });
      p.on('pageerror', (e) => pageErrors.push(e.message));
      p.on('response', async (r) => {
        if (!r.url().startsWith(`${baseUrl}/v1/`)) return;
        const type = r.headers()['content-type'] || '';
        if (type.startsWith('image/')) return;
        try {
          const body = await r.text();
          for (const re of kLeakPatterns) {
            if (re.test(body)) leaks.push(`${r.request().method()} ${r.url().slice(baseUrl.length)} → ${r.status()}: ${body.slice(0, 300)}`);
          }
        } catch { /* the page navigated away before the body was read */ }
      });
    };
    watch(page);
    context.on('page', watch);

    const shot = async (name, target = page) => {
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`shot name "${name}": expected [A-Za-z0-9_.-]+`);
      const file = path.join(opts.shots, `${name}.png`);
      // The whole page as a phone this tall would show it: Chromium's fullPage capture keeps
      // fixed and sticky bars (top bar, tabs) where the 844 px viewport had them, mid-page.
      const viewport = target.viewportSize();
      const height = await target.evaluate(() => document.documentElement.scrollHeight).catch(() => 0);
      if (viewport && height > viewport.height) {
        await target.setViewportSize({ width: viewport.width, height: Math.min(height, 6000) });
      }
      try {
        await target.screenshot({ path: file });
      } finally {
        if (viewport && height > viewport.height) await target.setViewportSize(viewport);
      }
      log(`screenshot ${file}`);
      return file;
    };
    const expect = (cond, what) => {
      if (!cond) throw new Error(what);
    };
    // The journey may call the API directly (e.g. a merchant's static code): JSON in, JSON out.
    const apiCall = async (method, urlPath, body, headers = {}) => {
      const r = await fetch(`${baseUrl}${urlPath}`, {
        method,
        headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      for (const re of kLeakPatterns) {
        if (re.test(text)) leaks.push(`${method} ${urlPath} → ${r.status}: ${text.slice(0, 300)}`);
      }
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { json = { text }; }
      return { status: r.status, body: json, headers: r.headers };
    };

    const { default: journey } = await import(pathToFileURL(journeyFile).href);
    if (typeof journey !== 'function') throw new Error(`${journeyFile} has no default export function`);
    log('journey starts');
    let timer;
    await Promise.race([
      journey({ page, context, baseUrl, shot, expect, apiCall, log, tapstack: opts.tapstack }),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`journey took over ${kJourneyTimeoutMs / 1000} s`)), kJourneyTimeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    if (dialogs.length) throw new Error(`the page opened dialogs (forms must show inline errors): ${dialogs.join('; ')}`);
    if (pageErrors.length) throw new Error(`uncaught errors in the page: ${pageErrors.join('; ')}`);
    if (leaks.length) throw new Error(`API answers with internal error text or a stack trace:\n  ${leaks.join('\n  ')}`);
  } catch (e) {
    failure = e;
    if (context) {
      const page = context.pages()[0];
      if (page) {
        const file = path.join(opts.shots, `${opts.journey}-failure.png`);
        await page.screenshot({ path: file, fullPage: true }).then(() => log(`failure screenshot ${file}`)).catch(() => {});
      }
    }
  } finally {
    if (context) await context.close().catch(() => {});
    try {
      const code = await stopServer(server);
      if (!failure && code !== 0) failure = new Error(`tapstack serve exited with ${code} after SIGTERM (expected 0)`);
    } catch (e) {
      failure = failure || e;
    }
  }

  if (failure) {
    console.error(`[${opts.journey}] FAILED: ${failure.stack || failure.message}`);
    console.error(`[${opts.journey}] last lines of the server's log (${logFile}):\n${tail(logFile)}`);
    console.error(`[${opts.journey}] data kept in ${work}`);
    process.exit(1);
  }
  if (opts.keepData) log(`data kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
  log('PASSED');
}

main().catch((e) => {
  console.error(`run_journey: ${e.stack || e.message}`);
  process.exit(1);
});
