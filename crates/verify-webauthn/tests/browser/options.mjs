// Proves verify-webauthn's options JSON is accepted unchanged by real clients.
//
//   node options.mjs            (after `npm ci` in this directory)
//
// Serves a tiny page from 127.0.0.1 and opens it in Debian's Chromium as
// http://localhost:<port> (rp id "localhost"), runs
// `cargo run -q -p verify-webauthn --example options_json -- <origin>` (CARGO_TARGET_DIR
// is taken from the environment) and, in the page:
//   1. PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON
//      on the JSON exactly as printed, then navigator.credentials.create (excludeCredentials
//      non-empty) and get: usernameless, and with allowCredentials naming the existing
//      credential (added to the CDP virtual authenticator under that id); a second create
//      after that must be refused with InvalidStateError (excludeCredentials honoured);
//   2. @github/webauthn-json's browser-ponyfill parseCreationOptionsFromJSON /
//      parseRequestOptionsFromJSON (its ESM file served from node_modules) on the same
//      JSON, whose byte values (challenge, user.id, excludeCredentials and
//      allowCredentials ids) must equal the browser's.
// Exits non-zero with a message on any failure.

import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const PONYFILL = readFileSync(
  join(here, 'node_modules/@github/webauthn-json/dist/esm/webauthn-json.browser-ponyfill.js'),
);

const PAGE = `<!doctype html><meta charset="utf-8"><title>verify-webauthn options</title>
<script type="module">
import * as wj from '/webauthn-json.browser-ponyfill.js';
const hex = (b) => Array.from(new Uint8Array(b instanceof ArrayBuffer ? b : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), (x) => x.toString(16).padStart(2, '0')).join('');
const ids = (list) => (list ?? []).map((c) => hex(c.id));
function creationBytes(o) {
  return { challenge: hex(o.challenge), userId: hex(o.user.id), exclude: ids(o.excludeCredentials) };
}
function requestBytes(o) {
  return { challenge: hex(o.challenge), allow: ids(o.allowCredentials) };
}
window.check = {
  nativeParse(out) {
    return {
      creation: creationBytes(PublicKeyCredential.parseCreationOptionsFromJSON(out.creation)),
      request: requestBytes(PublicKeyCredential.parseRequestOptionsFromJSON(out.request)),
      usernameless: requestBytes(PublicKeyCredential.parseRequestOptionsFromJSON(out.usernameless)),
    };
  },
  ponyfillParse(out) {
    return {
      creation: creationBytes(wj.parseCreationOptionsFromJSON({ publicKey: out.creation }).publicKey),
      request: requestBytes(wj.parseRequestOptionsFromJSON({ publicKey: out.request }).publicKey),
      usernameless: requestBytes(wj.parseRequestOptionsFromJSON({ publicKey: out.usernameless }).publicKey),
    };
  },
  async create(json) {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(json);
    try {
      const c = await navigator.credentials.create({ publicKey });
      return { ok: true, credential: c.toJSON() };
    } catch (e) {
      return { ok: false, name: e.name, message: e.message };
    }
  },
  async get(json) {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(json);
    try {
      const c = await navigator.credentials.get({ publicKey });
      return { ok: true, credential: c.toJSON() };
    } catch (e) {
      return { ok: false, name: e.name, message: e.message };
    }
  },
};
window.ready = true;
</script><p>verify-webauthn options page</p>`;

function fail(message) {
  throw new Error(message);
}

const server = createServer((req, res) => {
  if (req.url === '/webauthn-json.browser-ponyfill.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
    res.end(PONYFILL);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(PAGE);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://localhost:${server.address().port}`;

let out;
try {
  const stdout = execFileSync(
    'cargo',
    ['run', '-q', '-p', 'verify-webauthn', '--example', 'options_json', '--', origin],
    { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  out = JSON.parse(stdout);
} catch (err) {
  server.close();
  console.error(`FAILED: could not run the options_json example: ${err.message}`);
  process.exit(1);
}

const userDataDir = mkdtempSync(join(tmpdir(), 'verify-webauthn-options-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

let failed = false;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(origin);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 10000 });

  // 1. The browser's own parsers, on the JSON exactly as printed.
  const native = await page.evaluate((o) => window.check.nativeParse(o), out);
  const b64hex = (s) => Buffer.from(s, 'base64url').toString('hex');
  const expected = {
    creation: {
      challenge: b64hex(out.creation.challenge),
      userId: b64hex(out.creation.user.id),
      exclude: (out.creation.excludeCredentials ?? []).map((c) => b64hex(c.id)),
    },
    request: { challenge: b64hex(out.request.challenge), allow: out.request.allowCredentials.map((c) => b64hex(c.id)) },
    usernameless: { challenge: b64hex(out.usernameless.challenge), allow: [] },
  };
  if (expected.creation.exclude.length === 0) fail('excludeCredentials is empty');
  if (expected.request.allow.length === 0) fail('allowCredentials is empty');
  if (JSON.stringify(native) !== JSON.stringify(expected)) {
    fail(`browser parse gave other bytes:\n  got      ${JSON.stringify(native)}\n  expected ${JSON.stringify(expected)}`);
  }
  console.error('ok: PublicKeyCredential.parse*OptionsFromJSON accept the options; bytes match');

  // 2. @github/webauthn-json on the same JSON.
  const ponyfill = await page.evaluate((o) => window.check.ponyfillParse(o), out);
  if (JSON.stringify(ponyfill) !== JSON.stringify(native)) {
    fail(`@github/webauthn-json gave other bytes than the browser:\n  webauthn-json ${JSON.stringify(ponyfill)}\n  browser       ${JSON.stringify(native)}`);
  }
  console.error('ok: @github/webauthn-json parse*OptionsFromJSON accept the options; bytes equal the browser\'s');

  // 3. The ceremonies with a CDP virtual authenticator.
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

  const created = await page.evaluate((o) => window.check.create(o), out.creation);
  if (!created.ok) fail(`navigator.credentials.create refused the creation options: ${created.name}: ${created.message}`);
  console.error(`ok: navigator.credentials.create (alg ${created.credential.response.publicKeyAlgorithm})`);

  const discoverable = await page.evaluate((o) => window.check.get(o), out.usernameless);
  if (!discoverable.ok) fail(`navigator.credentials.get refused the usernameless options: ${discoverable.name}: ${discoverable.message}`);
  if (discoverable.credential.rawId !== created.credential.rawId) fail('usernameless get used another credential than the one registered');
  if (discoverable.credential.response.userHandle !== out.creation.user.id) fail('usernameless get returned another user handle than user.id');
  console.error('ok: navigator.credentials.get, usernameless (the registered credential, userHandle = user.id)');

  // The user's existing credential, under the id the options name.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await cdp.send('WebAuthn.addCredential', {
    authenticatorId,
    credential: {
      credentialId: Buffer.from(out.existing_credential_id, 'base64url').toString('base64'),
      isResidentCredential: false,
      rpId: 'localhost',
      privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      signCount: 0,
    },
  });
  const allowed = await page.evaluate((o) => window.check.get(o), out.request);
  if (!allowed.ok) fail(`navigator.credentials.get refused the request options: ${allowed.name}: ${allowed.message}`);
  if (allowed.credential.rawId !== out.existing_credential_id) fail('get with allowCredentials used another credential than the one allowed');
  console.error('ok: navigator.credentials.get with allowCredentials (the existing credential)');

  const again = await page.evaluate((o) => window.check.create(o), out.creation);
  if (again.ok) fail('navigator.credentials.create succeeded although excludeCredentials names a credential on the authenticator');
  if (again.name !== 'InvalidStateError') fail(`second create failed with ${again.name} (${again.message}), expected InvalidStateError`);
  console.error('ok: excludeCredentials honoured (InvalidStateError once the authenticator holds the existing credential)');
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
} catch (err) {
  failed = true;
  console.error(`FAILED: ${err.message}`);
} finally {
  await context.close();
  server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.error('options JSON accepted unchanged by Chromium and @github/webauthn-json');
