// Captures real WebAuthn credentials from Debian's Chromium for verify-webauthn's tests.
//
//   node capture.mjs <out_dir>
//
// Serves a tiny page from 127.0.0.1, opens it as http://localhost:<port> (a secure
// context, rp id "localhost"), adds a CDP WebAuthn virtual authenticator per scenario,
// and drives navigator.credentials.create/get with options parsed by the browser's own
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON. The
// responses are the browser's credential.toJSON(), recorded unchanged, one file per
// scenario: <out_dir>/<scenario>.json (format: see README.md beside this script).
//
// No network beyond loopback is used. Chromium is /usr/bin/chromium (override with
// CHROMIUM=/path), headless, with a fresh user-data-dir that is removed afterwards.

import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node capture.mjs <out_dir>');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const RP_ID = 'localhost';
const b64url = (buf) => Buffer.from(buf).toString('base64url');

// Each scenario: the virtual authenticator, the registration options, and the
// sign-ins. `expect` lists the flags the authenticator must set, for the Rust test.
const SCENARIOS = [
  {
    name: 'ctap2-es256-none-uv-discoverable',
    about: 'ES256 platform passkey, user verified, discoverable; attestation none; two sign-ins with allowCredentials, one usernameless (no allowCredentials, by user handle).',
    authenticator: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    algs: [-7],
    attestation: 'none',
    residentKey: 'required',
    userVerification: 'required',
    signIns: ['allow', 'allow', 'discoverable'],
    expect: { up: true, uv: true, be: false, bs: false, alg: -7, fmt: 'none' },
  },
  {
    name: 'ctap2-es256-packed-x5c',
    about: 'ES256 security key, attestation direct: packed with an x5c chain from the virtual authenticator; UV off.',
    authenticator: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false, isUserVerified: false },
    algs: [-7],
    attestation: 'direct',
    residentKey: 'discouraged',
    userVerification: 'discouraged',
    signIns: ['allow', 'allow'],
    expect: { up: true, uv: false, be: false, bs: false, alg: -7, fmt: 'packed' },
  },
  {
    name: 'ctap2-eddsa-packed-x5c',
    about: 'EdDSA (Ed25519) credential requested alone, attestation direct, UV on.',
    authenticator: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    algs: [-8],
    attestation: 'direct',
    residentKey: 'discouraged',
    userVerification: 'required',
    signIns: ['allow', 'allow'],
    expect: { up: true, uv: true, be: false, bs: false, alg: -8, fmt: 'packed' },
  },
  {
    name: 'ctap2-rs256-none',
    about: 'RS256 credential requested alone, attestation none, UV preferred but the authenticator has none.',
    authenticator: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false, isUserVerified: false },
    algs: [-257],
    attestation: 'none',
    residentKey: 'discouraged',
    userVerification: 'preferred',
    signIns: ['allow', 'allow'],
    expect: { up: true, uv: false, be: false, bs: false, alg: -257, fmt: 'none' },
  },
  {
    name: 'ctap2-backup-eligible-default-algs',
    about: 'Synced-passkey style: BE and BS set by the authenticator, UV on, discoverable; the default algorithm list [-8, -7, -257], of which the authenticator picks EdDSA.',
    authenticator: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, defaultBackupEligibility: true, defaultBackupState: true },
    algs: [-8, -7, -257],
    attestation: 'none',
    residentKey: 'required',
    userVerification: 'preferred',
    signIns: ['allow', 'discoverable'],
    expect: { up: true, uv: true, be: true, bs: true, alg: -8, fmt: 'none' },
  },
  {
    name: 'ctap2-es256-backup-eligible-not-backed-up',
    about: 'ES256, BE set but BS clear (eligible, not yet backed up), UV on, attestation direct (packed x5c).',
    authenticator: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, defaultBackupEligibility: true, defaultBackupState: false },
    algs: [-7],
    attestation: 'direct',
    residentKey: 'preferred',
    userVerification: 'required',
    signIns: ['discoverable', 'allow'],
    expect: { up: true, uv: true, be: true, bs: false, alg: -7, fmt: 'packed' },
  },
  {
    name: 'ctap2-rs256-packed-x5c',
    about: 'RS256 credential requested alone, attestation direct (packed x5c, ES256 attestation key), UV on.',
    authenticator: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: true, isUserVerified: true },
    algs: [-257],
    attestation: 'direct',
    residentKey: 'discouraged',
    userVerification: 'preferred',
    signIns: ['allow', 'allow'],
    expect: { up: true, uv: true, be: false, bs: false, alg: -257, fmt: 'packed' },
  },
  {
    name: 'ctap2-eddsa-none-uv-off',
    about: 'EdDSA credential, attestation none, UV discouraged and the authenticator has none.',
    authenticator: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false, isUserVerified: false },
    algs: [-8],
    attestation: 'none',
    residentKey: 'discouraged',
    userVerification: 'discouraged',
    signIns: ['allow', 'allow'],
    expect: { up: true, uv: false, be: false, bs: false, alg: -8, fmt: 'none' },
  },
  {
    name: 'u2f-es256-fido-u2f',
    about: 'U2F protocol authenticator, attestation direct: fido-u2f statement; UV never set.',
    authenticator: { protocol: 'u2f', transport: 'usb', hasResidentKey: false, hasUserVerification: false, isUserVerified: false },
    algs: [-7],
    attestation: 'direct',
    residentKey: 'discouraged',
    userVerification: 'discouraged',
    signIns: ['allow', 'allow'],
    expect: { up: true, uv: false, be: false, bs: false, alg: -7, fmt: 'fido-u2f' },
  },
];

const PAGE = `<!doctype html><meta charset="utf-8"><title>verify-webauthn capture</title>
<script>
async function registerJSON(options) {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const credential = await navigator.credentials.create({ publicKey });
  return credential.toJSON();
}
async function authenticateJSON(options) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({ publicKey });
  return credential.toJSON();
}
</script><p>verify-webauthn capture page</p>`;

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(PAGE);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const origin = `http://localhost:${port}`;

const userDataDir = mkdtempSync(join(tmpdir(), 'verify-webauthn-chromium-'));
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

let failures = 0;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(origin);
  const support = await page.evaluate(() => ({
    parseCreationOptionsFromJSON: typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function',
    parseRequestOptionsFromJSON: typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function',
    isSecureContext: window.isSecureContext,
  }));
  if (!support.parseCreationOptionsFromJSON || !support.parseRequestOptionsFromJSON || !support.isSecureContext) {
    throw new Error(`this Chromium lacks what the capture needs: ${JSON.stringify(support)}`);
  }
  const browserVersion = context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });

  for (const scenario of SCENARIOS) {
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { automaticPresenceSimulation: true, ...scenario.authenticator },
    });
    try {
      const capture = await runScenario(page, scenario, browserVersion);
      writeFileSync(join(outDir, `${scenario.name}.json`), `${JSON.stringify(capture, null, 2)}\n`);
      console.error(`captured ${scenario.name}`);
    } catch (err) {
      failures += 1;
      console.error(`FAILED ${scenario.name}: ${err.message}`);
    } finally {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    }
  }
} finally {
  await context.close();
  server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
if (failures > 0) {
  console.error(`${failures} scenario(s) failed`);
  process.exit(1);
}

async function runScenario(page, scenario, browserVersion) {
  const userHandle = Buffer.from(`YE${randomBytes(16).toString('hex')}`, 'ascii');
  const regChallenge = b64url(randomBytes(32));
  const creationOptions = {
    rp: { id: RP_ID, name: 'verify-webauthn capture' },
    user: { id: b64url(userHandle), name: `capture-${scenario.name}`, displayName: scenario.name },
    challenge: regChallenge,
    pubKeyCredParams: scenario.algs.map((alg) => ({ type: 'public-key', alg })),
    timeout: 60000,
    excludeCredentials: [],
    authenticatorSelection: {
      residentKey: scenario.residentKey,
      requireResidentKey: scenario.residentKey === 'required',
      userVerification: scenario.userVerification,
    },
    attestation: scenario.attestation,
    extensions: { credProps: true },
  };
  const capturedAt = Math.floor(Date.now() / 1000);
  const registration = await page.evaluate((o) => registerJSON(o), creationOptions);
  const gotAlg = registration.response?.publicKeyAlgorithm;
  if (gotAlg !== scenario.expect.alg) {
    throw new Error(`the authenticator chose algorithm ${gotAlg}, the scenario expects ${scenario.expect.alg}`);
  }

  const authentications = [];
  for (const kind of scenario.signIns) {
    const challenge = b64url(randomBytes(32));
    const requestOptions = {
      challenge,
      rpId: RP_ID,
      timeout: 60000,
      userVerification: scenario.userVerification,
      allowCredentials:
        kind === 'allow' ? [{ type: 'public-key', id: registration.rawId, transports: registration.response.transports ?? [] }] : [],
    };
    const response = await page.evaluate((o) => authenticateJSON(o), requestOptions);
    authentications.push({ kind, challenge, options: requestOptions, response });
  }

  return {
    name: scenario.name,
    about: scenario.about,
    browser: `Chromium ${browserVersion} (CDP WebAuthn virtual authenticator)`,
    captured_at: capturedAt,
    rp_id: RP_ID,
    origin: page.url().replace(/\/$/, ''),
    user_handle: b64url(userHandle),
    virtual_authenticator: scenario.authenticator,
    expected: {
      user_present: scenario.expect.up,
      user_verified: scenario.expect.uv,
      backup_eligible: scenario.expect.be,
      backup_state: scenario.expect.bs,
      algorithm: scenario.expect.alg,
      attestation_format: scenario.expect.fmt,
    },
    registration: { challenge: regChallenge, options: creationOptions, response: registration },
    authentications,
  };
}
