// End-to-end test of verify-server's web page in Debian's Chromium.
//
//   VERIFY_SERVER_BIN=<path to verify-server> node e2e.mjs <artifact_dir>
//
// (run.sh builds the binary and sets VERIFY_SERVER_BIN.) Starts the server on
// 127.0.0.1:<free port> with a fresh SQLite file and --base-url http://localhost:<port>,
// opens the page in headless Chromium with a CDP WebAuthn virtual authenticator
// (ctap2, internal, resident keys, user verification) and walks the page:
//   1. passkey: register, sign in; restart the server process on the same SQLite file;
//      sign in again (by user id, then usernameless);
//   2. TOTP: enroll, read the secret from the page, compute codes here (RFC 6238,
//      node:crypto), verify the factor, sign in with the next step's code;
//   3. push: enroll the device pane (WebCrypto key, /v2 device calls), send a challenge
//      from the relying-party pane, approve it on the device, see "approved" on the
//      relying-party side;
//   4. sign out: the signed-in state clears, and a push request still pending at
//      sign-out does not sign the page in again when the phone approves it;
//   5. the developer panel (step 5 of the page) lists the calls with their sids;
//   6. the passkey list: delete the passkey.
// After every step no sid shows outside the developer panel: the visitor reads plain
// words. Each step leaves a screenshot NN-name.png in artifact_dir (and a few steps a
// picture of their section, pane-name.png), beside server-N.log and console.log. Any failed step, console error or page error fails the
// run (exit 1) with a message naming the step.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const outDir = process.argv[2] || mkdtempSync(join(tmpdir(), 'verify-server-e2e-'));
mkdirSync(outDir, { recursive: true });
const serverBin = process.env.VERIFY_SERVER_BIN;
if (!serverBin) {
  console.error('FAILED: set VERIFY_SERVER_BIN to the verify-server binary (run.sh does)');
  process.exit(1);
}
const USER = 'e2e-user-0001';
const work = mkdtempSync(join(tmpdir(), 'verify-server-e2e-work-'));
const database = `sqlite://${join(work, 'verify.db')}`;

function fail(message) {
  throw new Error(message);
}

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const port = await freePort();
const origin = `http://localhost:${port}`;

// ---- the server process -------------------------------------------------------------

let server = null;
let serverRuns = 0;

async function startServer() {
  serverRuns += 1;
  const log = createWriteStream(join(outDir, `server-${serverRuns}.log`));
  const child = spawn(
    serverBin,
    ['--listen', `127.0.0.1:${port}`, '--database', database, '--base-url', origin],
    { env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  server = { child, exited };
  const deadline = Date.now() + 60000;
  for (;;) {
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 200))]);
    if (early) fail(`the server exited at start (${JSON.stringify(early)}); see server-${serverRuns}.log`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/demo/api/config`);
      if (res.ok) return res.json();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) fail('the server did not answer /demo/api/config within 60 s');
  }
}

async function stopServer() {
  if (!server) return;
  const { child, exited } = server;
  server = null;
  child.kill('SIGINT'); // graceful shutdown (ctrl-c)
  const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 10000))]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---- RFC 6238 ---------------------------------------------------------------------------

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(ch);
    if (index < 0) fail(`the page's secret is not base32: ${text}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secret, unixSeconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1000000).padStart(6, '0');
}

// ---- the browser -----------------------------------------------------------------------

const consoleLog = [];
const problems = [];
let shot = 0;
let failed = false;
const userDataDir = mkdtempSync(join(tmpdir(), 'verify-server-e2e-chromium-'));
let context = null;

async function screenshot(page, name) {
  shot += 1;
  const file = join(outDir, `${String(shot).padStart(2, '0')}-${name}.png`);
  // From the top, so that the sticky signed-in bar is drawn there.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
}

// A sid: two capital letters, then 32 lowercase hex digits.
const SID = /[A-Z]{2}[0-9a-f]{32}/;

// The page's text outside its one technical area (the developer panel), hidden
// parts included, must name no sid.
async function checkNoSids(page, step) {
  const found = await page.evaluate((source) => {
    const clone = document.body.cloneNode(true);
    for (const el of clone.querySelectorAll('[data-technical]')) el.remove();
    const match = new RegExp(source).exec(clone.textContent);
    return match ? clone.textContent.slice(Math.max(0, match.index - 80), match.index + 40) : null;
  }, SID.source);
  if (found) fail(`${step}: a sid in the page's text outside the developer panel: …${found}…`);
}

// A picture of one section (pane-<name>.png; the README shows some of them).
async function paneShot(page, selector, name) {
  // The sticky signed-in bar would cover the section's top: it stays in place meanwhile
  // (through the CSSOM: the page's CSP refuses inline style sheets).
  const bar = (position) => page.evaluate((p) => { document.querySelector('.bar').style.position = p; }, position);
  await bar('static');
  await page.locator(selector).screenshot({ path: join(outDir, `pane-${name}.png`) });
  await bar('');
}

function checkConsole(step) {
  if (problems.length > 0) fail(`${step}: console or page errors:\n  ${problems.join('\n  ')}`);
}

async function step(page, name, action) {
  try {
    await action();
  } catch (err) {
    await screenshot(page, `${name}-FAILED`).catch(() => {});
    throw new Error(`step "${name}": ${err.message}`);
  }
  await screenshot(page, name);
  await checkNoSids(page, `step "${name}"`);
  checkConsole(`step "${name}"`);
  console.error(`ok: ${name}`);
}

// Clicks `button` and waits for `status` to turn ok (returns its text) or error (fails
// with the page's own message).
async function clickFor(page, button, status, timeout = 20000, expect = 'ok') {
  await page.locator(status).evaluate((el) => {
    el.textContent = '';
    el.className = 'status';
  });
  await page.click(button);
  const handle = await page.waitForFunction(
    (sel) => {
      const el = document.querySelector(sel);
      return el && (el.classList.contains('ok') || el.classList.contains('error')) ? el.className : false;
    },
    status,
    { timeout },
  );
  const kind = await handle.jsonValue();
  const text = (await page.textContent(status)) || '';
  if (!kind.includes(expect)) fail(`${button}: expected ${expect}, the page says: ${text}`);
  return text;
}

try {
  const first = await startServer();
  if (first.rp_id !== 'localhost' || first.origin !== origin) {
    fail(`the demo's relying party is ${first.rp_id} at ${first.origin}, expected localhost at ${origin}`);
  }

  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    const line = `[${msg.type()}] ${msg.text()}`;
    consoleLog.push(line);
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location().url || 'no url'})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));

  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await step(page, 'page-loaded', async () => {
    await page.goto(origin);
    await page.waitForSelector('#config[data-service-sid^="VA"]', { state: 'attached', timeout: 10000 });
    const shownOrigin = await page.textContent('#config-origin');
    if (shownOrigin !== origin) fail(`the developer panel shows the origin ${shownOrigin}`);
    const warning = await page.textContent('#page-status');
    if (warning !== '') fail(`the page warns: ${warning}`);
    if (!(await page.isHidden('#sign-out'))) fail('"Sign out" shows before any sign-in');
    await page.fill('#identity', USER);
  });

  // 0. Every challenge and user.id the server emits reads the same through the
  // browser's own atob (which refuses '-' and '_': the service's web SDK decodes
  // them so) as through base64url decoding: 1,000 registrations, 1,000 sign-ins.
  await step(page, 'challenges-survive-atob', async () => {
    const result = await page.evaluate(async (rounds) => {
      const auth = { authorization: `Basic ${btoa('demo-key:demo-secret')}` };
      const form = (fields) => ({
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
      const json = (body) => ({
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const base64url = (text) => {
        let bits = 0;
        let value = 0;
        let out = '';
        for (const ch of text) {
          const index = alphabet.indexOf(ch);
          if (index < 0) throw new Error(`not base64url: ${text}`);
          value = ((value << 6) | index) & 0xffffff;
          bits += 6;
          if (bits >= 8) {
            out += String.fromCharCode((value >>> (bits - 8)) & 0xff);
            bits -= 8;
          }
        }
        return out;
      };
      const failures = [];
      const check = (what, text) => {
        let viaAtob;
        try {
          viaAtob = atob(text);
        } catch (err) {
          failures.push(`${what} ${text}: atob throws ${err.name}`);
          return;
        }
        if (viaAtob !== base64url(text)) failures.push(`${what} ${text}: atob reads other bytes`);
      };
      const created = await fetch('/v2/Services', form({
        FriendlyName: 'atob check',
        'Passkeys.RelyingParty.Id': 'localhost',
        'Passkeys.RelyingParty.Origins': location.origin,
      }));
      if (created.status !== 201) return { failures: [`service: ${created.status} ${await created.text()}`], checked: 0 };
      const service = (await created.json()).sid;
      let checked = 0;
      for (let i = 0; i < rounds; i += 1) {
        const factor = await fetch(`/v2/Services/${service}/Passkeys/Factors`, json({
          friendly_name: 'key',
          identity: `atob-${String(i).padStart(6, '0')}`,
        }));
        const options = (await factor.json()).options.publicKey;
        check('registration challenge', options.challenge);
        check('user.id', options.user.id);
        const challenge = await fetch(`/v2/Services/${service}/Passkeys/Challenges`, json({}));
        check('sign-in challenge', (await challenge.json()).options.publicKey.challenge);
        checked += 3;
      }
      return { failures, checked };
    }, 1000);
    if (result.failures.length > 0) fail(`${result.failures.length} values fail atob:\n  ${result.failures.slice(0, 10).join('\n  ')}`);
    if (result.checked !== 3000) fail(`checked ${result.checked} values, expected 3000`);
  });

  // 1. Passkeys.
  await step(page, 'passkey-registered', async () => {
    const text = await clickFor(page, '#passkey-register', '#passkeys-status');
    if (text !== `Passkey added for ${USER}. Now sign in with it (b).`) fail(`unexpected: ${text}`);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    if (credentials.length !== 1 || !credentials[0].isResidentCredential) {
      fail(`the authenticator holds ${JSON.stringify(credentials.map((c) => c.isResidentCredential))}`);
    }
    await page.waitForSelector('#passkeys li[data-sid^="YF"]');
  });

  await step(page, 'passkey-signed-in', async () => {
    const text = await clickFor(page, '#passkey-signin', '#passkeys-status');
    if (text !== `Signed in as ${USER} with your passkey.`) fail(`unexpected: ${text}`);
    const who = await page.textContent('#signed-in');
    if (who !== `Signed in as ${USER} with a passkey.`) fail(`#signed-in says: ${who}`);
    if (!(await page.isVisible('#sign-out'))) fail('no "Sign out" once signed in');
  });

  await step(page, 'server-restarted', async () => {
    await stopServer();
    const again = await startServer();
    if (again.service_sid !== first.service_sid) {
      fail(`the demo service changed across the restart: ${first.service_sid} -> ${again.service_sid}`);
    }
    await page.reload();
    await page.waitForSelector('#config[data-service-sid^="VA"]', { state: 'attached', timeout: 10000 });
    await page.fill('#identity', USER);
  });

  await step(page, 'passkey-signed-in-after-restart', async () => {
    await clickFor(page, '#passkey-signin', '#passkeys-status');
    const who = await page.textContent('#signed-in');
    if (who !== `Signed in as ${USER} with a passkey.`) fail(`#signed-in says: ${who}`);
  });

  await step(page, 'passkey-usernameless', async () => {
    await page.fill('#identity', '');
    await clickFor(page, '#passkey-signin', '#passkeys-status');
    const who = await page.textContent('#signed-in');
    if (who !== `Signed in as ${USER} with a passkey.`) fail(`#signed-in says: ${who}`);
    const filled = await page.inputValue('#identity');
    if (filled !== USER) fail(`usernameless sign-in filled the user id with ${filled}`);
  });

  // 2. TOTP.
  let secret = '';
  let verifiedStep = 0;
  let usedCode = '';
  await step(page, 'totp-enrolled', async () => {
    const text = await clickFor(page, '#totp-enroll', '#totp-status');
    if (!text.startsWith('QR code ready: scan it with your authenticator app')) fail(`unexpected: ${text}`);
    secret = (await page.textContent('#totp-secret')).trim();
    if (!/^[A-Z2-7]{16,}$/.test(secret)) fail(`the page shows the secret as ${secret}`);
    await page.waitForFunction(() => {
      const img = document.getElementById('totp-qr');
      return img.complete && img.naturalWidth > 0;
    }, null, { timeout: 10000 });
    await paneShot(page, '#totp-pane', 'totp-enrolled');
  });

  await step(page, 'totp-verified', async () => {
    const now = Date.now() / 1000;
    verifiedStep = Math.floor(now / 30);
    await page.fill('#totp-verify-code', totp(secret, now));
    const text = await clickFor(page, '#totp-verify', '#totp-status');
    if (!text.startsWith(`Authenticator app added for ${USER}.`)) fail(`unexpected: ${text}`);
  });

  await step(page, 'totp-signed-in', async () => {
    // Codes are single-use: wait for the next time step.
    const wait = (verifiedStep + 1) * 30 * 1000 - Date.now() + 500;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    usedCode = totp(secret, Date.now() / 1000);
    await page.fill('#totp-signin-code', usedCode);
    await clickFor(page, '#totp-signin', '#totp-status');
    const who = await page.textContent('#signed-in');
    if (who !== `Signed in as ${USER} with an authenticator app.`) fail(`#signed-in says: ${who}`);
  });

  await step(page, 'totp-replay-refused', async () => {
    // The code just used, again: the page says it was already used, not mistyped.
    const before = problems.length;
    await page.fill('#totp-signin-code', usedCode);
    const text = await clickFor(page, '#totp-signin', '#totp-status', 20000, 'error');
    if (!text.includes('already used') || text.includes('did not match')) {
      fail(`a replayed code: the page says: ${text}`);
    }
    // Chromium logs the refused request itself ("the server responded with a status
    // of 409"); that line is this step's expected answer, anything else is not.
    await page.waitForTimeout(300);
    const logged = problems.splice(before);
    problems.push(...logged.filter((line) => !(line.includes('409') && line.includes('/demo/api/totp/signin'))));
  });

  // 3. Push.
  await step(page, 'device-enrolled', async () => {
    const text = await clickFor(page, '#device-enroll', '#device-status');
    if (!text.startsWith('This phone is set up')) fail(`unexpected: ${text}`);
    const state = await page.getAttribute('#device-state', 'data-state');
    if (state !== 'verified') fail(`#device-state is ${state}`);
  });

  // Sends a push request from the website card; returns its sid, which the page
  // keeps in a data- attribute (and the developer panel), never in its words.
  async function sendPush(page) {
    await page.locator('#push-rp-message').evaluate((el) => { el.textContent = ''; });
    await page.click('#push-send');
    await page.waitForFunction(() => document.getElementById('push-rp-message').textContent.length > 0, null, {
      timeout: 10000,
    });
    const message = await page.textContent('#push-rp-message');
    if (message !== 'Approval request sent to your phone: approve it there (c).') {
      fail(`the website card says: ${message}`);
    }
    const sid = (await page.getAttribute('#push-rp-status', 'data-challenge-sid')) || '';
    if (!/^YC[0-9a-f]{32}$/.test(sid)) fail(`#push-rp-status has data-challenge-sid ${sid}`);
    const status = await page.getAttribute('#push-rp-status', 'data-status');
    const words = await page.textContent('#push-rp-status');
    if (status !== 'pending' || words !== 'waiting for your phone') fail(`the website card shows ${status}: ${words}`);
    if (!(await page.textContent('#api-log')).includes(sid)) fail(`the developer panel does not show ${sid}`);
    // The phone polls every 3 s; the request shows up with its details.
    const item = page.locator(`#device-challenges li[data-sid="${sid}"]`);
    await item.waitFor({ timeout: 15000 });
    const shown = await item.textContent();
    if (!shown.includes('Sign in to the verify web demo?') || !shown.includes(USER)) {
      fail(`the phone shows: ${shown}`);
    }
    return sid;
  }

  let challengeSid = '';
  await step(page, 'push-sent', async () => {
    challengeSid = await sendPush(page);
    await paneShot(page, '#push-pane', 'push-sent');
  });

  await step(page, 'push-approved', async () => {
    await page.click(`#device-challenges li[data-sid="${challengeSid}"] button.approve`);
    await page.waitForFunction(
      () => ['approved', 'denied', 'expired'].includes(document.getElementById('push-rp-status').dataset.status),
      null,
      { timeout: 15000 },
    );
    const status = await page.getAttribute('#push-rp-status', 'data-status');
    if (status !== 'approved') {
      fail(`the website card shows ${status}: ${await page.textContent('#device-status')}`);
    }
    const device = await page.textContent('#device-status');
    if (device !== 'You approved the request.') fail(`the phone says: ${device}`);
    const message = await page.textContent('#push-rp-message');
    if (message !== `Your phone approved the request: signed in as ${USER}.`) fail(`the website card says: ${message}`);
    const who = await page.textContent('#signed-in');
    if (who !== `Signed in as ${USER} with push approval.`) fail(`#signed-in says: ${who}`);
  });

  // 4. Sign out, with a push request still pending: the page stops waiting for it, so
  // approving it on the phone afterwards does not sign the page in again.
  await step(page, 'signed-out', async () => {
    const pending = await sendPush(page);
    await page.click('#sign-out');
    const who = await page.textContent('#signed-in');
    if (who !== 'Signed out.') fail(`#signed-in says: ${who}`);
    if ((await page.getAttribute('#signed-in', 'data-state')) !== 'none') fail('#signed-in keeps a signed-in state');
    if (!(await page.isHidden('#sign-out'))) fail('"Sign out" still shows after signing out');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (focused !== 'identity') fail(`after signing out the focus is on #${focused}, not the user name`);
    if ((await page.getAttribute('#push-rp-status', 'data-status')) !== 'none') fail('the website still waits for the request');
    await page.click(`#device-challenges li[data-sid="${pending}"] button.approve`);
    await page.waitForFunction(() => document.getElementById('device-status').textContent === 'You approved the request.', null, {
      timeout: 15000,
    });
    await page.waitForTimeout(2500); // more than the website's 1 s polling
    const after = await page.textContent('#signed-in');
    if (after !== 'Signed out.') fail(`approving a request sent before signing out signed the page in: ${after}`);
  });

  // 5. The developer panel: every call, its status and its answer, sids included.
  await step(page, 'under-the-hood', async () => {
    await page.click('#dev-panel summary');
    await page.waitForSelector('#api-log li', { timeout: 5000 });
    const calls = await page.$$eval('#api-log > li', (items) => items.map((li) => `${li.dataset.method} ${li.dataset.path} ${li.dataset.status}`));
    for (const needle of ['POST /demo/api/passkeys/signin/finish 200', 'POST /demo/api/totp/signin 409', 'POST /demo/api/push/challenge 201']) {
      if (!calls.includes(needle)) fail(`the developer panel lacks ${needle}: ${calls.slice(0, 12).join('; ')}`);
    }
    if (!calls.some((c) => /^POST \/v2\/Services\/VA[0-9a-f]{32}\/Entities\/[^/]+\/Challenges\/YC[0-9a-f]{32} 200$/.test(c))) {
      fail('the developer panel lacks the phone\'s answer to a request');
    }
    await page.locator('#api-log > li').first().locator('summary').click();
    const answered = await page.locator('#api-log > li').first().locator('pre').last().textContent();
    if (!SID.test(answered)) fail(`the newest call's answer shows no sid: ${answered.slice(0, 200)}`);
    if ((await page.textContent('#api-log')).match(/"token": "(?!\(hidden\))/)) fail('the developer panel shows an access token');
    await paneShot(page, '#backend-pane', 'under-the-hood');
  });

  // 6. The passkey list: delete the passkey; the authenticator's copy no longer signs in.
  await step(page, 'passkey-deleted', async () => {
    await page.click('#passkey-list');
    const item = page.locator('#passkeys li[data-sid^="YF"]');
    await item.waitFor({ timeout: 10000 });
    if ((await item.count()) !== 1) fail(`the list shows ${await item.count()} passkeys`);
    const sid = await item.getAttribute('data-sid');
    await page.locator('#passkeys-status').evaluate((el) => {
      el.textContent = '';
      el.className = 'status';
    });
    await item.locator('button').click();
    await page.waitForFunction(
      () => document.getElementById('passkeys-status').textContent.startsWith('Passkey deleted.'),
      null,
      { timeout: 10000 },
    );
    if (!sid.startsWith('YF')) fail(`the list item's data-sid is ${sid}`);
    await page.waitForFunction(() => document.getElementById('passkeys').textContent.includes('has no passkeys'), null, {
      timeout: 10000,
    });
  });

  checkConsole('the end');
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
} catch (err) {
  failed = true;
  console.error(`FAILED: ${err.message}`);
} finally {
  writeFileSync(join(outDir, 'console.log'), `${consoleLog.join('\n')}\n`);
  if (context) await context.close().catch(() => {});
  await stopServer().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.error(`browser e2e: every step passed (${shot} screenshots in ${outDir})`);
