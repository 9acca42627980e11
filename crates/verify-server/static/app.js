// The verify web demo: a relying party page over the demo backend (/demo/api) and a
// simulated push device that calls /v2 exactly as the mobile SDKs do.
// Plain script, no dependencies, nothing loaded from the network.
//
// What a visitor reads (the status lines, the signed-in bar) is plain language with no
// sids; the sids, HTTP statuses and error codes are in step 5, the developer panel
// that logs every call and its answer.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const IDENTITY = /^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/;
  const LOG_LIMIT = 60;
  const SHOWN_CHARS = 4000;
  let config = null;

  // ---- helpers ------------------------------------------------------------------

  const utf8 = (text) => new TextEncoder().encode(text);

  function b64(bytes) {
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
  }

  const b64url = (bytes) => b64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

  function show(el, message, kind) {
    el.textContent = message;
    el.className = `status ${kind || ''}`;
  }

  // A server message as a sentence: capital first letter, final full stop.
  function sentence(text) {
    const trimmed = String(text).trim();
    if (trimmed === '') return trimmed;
    const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
    return /[.!?]$/.test(capital) ? capital : `${capital}.`;
  }

  const when = (iso) => {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  };

  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

  // ---- step 5: every call and its answer ------------------------------------------

  // Credentials are not repeated in the log (the TOTP key is on the page already).
  const hidden = (key, value) => (key === 'token' || key === 'authorization' ? '(hidden)' : value);

  function shown(value) {
    if (value === undefined || value === null || value === '') return '';
    const text = typeof value === 'string' ? value : JSON.stringify(value, hidden, 2);
    return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}\n… (${text.length - SHOWN_CHARS} more characters)` : text;
  }

  function logCall(who, method, url, request, status, response) {
    const list = $('api-log');
    const li = document.createElement('li');
    li.dataset.method = method;
    li.dataset.path = url;
    li.dataset.status = String(status);
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    const tag = document.createElement('span');
    tag.className = 'who';
    tag.textContent = who;
    const at = new Date();
    const time = document.createElement('time');
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString();
    const line = document.createElement('span');
    line.textContent = `${method} ${url} → ${status}`;
    if (typeof status !== 'number' || status >= 400) line.className = 'bad';
    summary.append(time, tag, line);
    details.append(summary);
    for (const [title, body] of [['sent', shown(request)], ['answered', shown(response)]]) {
      if (!body) continue;
      const label = document.createElement('div');
      label.className = 'muted';
      label.textContent = title;
      const pre = document.createElement('pre');
      pre.textContent = body;
      details.append(label, pre);
    }
    li.append(details);
    list.prepend(li);
    while (list.children.length > LOG_LIMIT) list.lastElementChild.remove();
    $('api-log-empty').hidden = true;
  }

  // An error answer of the API or the demo backend: its message for the visitor; the
  // status and code stay in the log.
  class ApiFailure extends Error {
    constructor(status, json, text) {
      const message = json && typeof json.message === 'string'
        ? sentence(json.message)
        : `The server answered HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}.`;
      super(message);
      this.name = 'ApiFailure';
      this.status = status;
      this.code = json ? json.code : undefined;
    }
  }

  // One fetch, logged in step 5 as `who` ("website" or "phone"). A quiet call (a
  // poll) is logged only when its caller calls the returned `log()` (on a change), or
  // when it fails.
  async function call(who, method, url, init, request, { quiet = false } = {}) {
    let res;
    try {
      res = await fetch(url, { ...init, method });
    } catch (err) {
      logCall(who, method, url, request, 'no answer', String(err));
      throw new Error('The server did not answer: is it still running?');
    }
    const type = res.headers.get('content-type') || '';
    const text = await res.text();
    let json = null;
    if (text && type.includes('json')) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    const log = () => logCall(who, method, url, request, res.status, json ?? (type.includes('svg') ? `(an SVG image, ${text.length} bytes)` : text));
    if (!quiet || !res.ok) log();
    if (!res.ok) {
      const failure = new ApiFailure(res.status, json, json ? '' : text);
      failure.date = res.headers.get('date');
      throw failure;
    }
    return { json, text, headers: res.headers, log: quiet ? log : () => {} };
  }

  function demoCall(method, path, body, options) {
    const init = { headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return call('website', method, `/demo/api${path}`, init, body, options);
  }

  async function demo(method, path, body) {
    return (await demoCall(method, path, body)).json;
  }

  function describe(err) {
    if (!err) return 'Something went wrong.';
    switch (err.name) {
      case 'ApiFailure':
      case 'Error':
        return err.message;
      case 'NotAllowedError':
        return 'The passkey prompt was closed or timed out. Try again.';
      case 'InvalidStateError':
        return 'This authenticator already holds a passkey for this user: sign in with it instead.';
      case 'AbortError':
        return 'The passkey prompt was cancelled.';
      default:
        return err.message ? `${err.name}: ${err.message}` : String(err);
    }
  }

  // Runs `action` on a click, showing any failure in `statusEl`.
  function on(buttonId, statusEl, action) {
    const button = $(buttonId);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await action();
      } catch (err) {
        show(statusEl, describe(err), 'error');
      } finally {
        button.disabled = false;
      }
    });
  }

  // Enter in a code field presses its button.
  function enterPresses(inputId, buttonId) {
    $(inputId).addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        $(buttonId).click();
      }
    });
  }

  function identity({ optional = false } = {}) {
    const value = $('identity').value.trim();
    if (optional && value === '') return null;
    if (value.length < 8 || value.length > 64 || !IDENTITY.test(value)) {
      $('identity').focus();
      throw new Error('Choose a user name first (step 1): 8 to 64 letters and digits, with single dashes between groups; never an email or a real name.');
    }
    return value;
  }

  // ---- signed in, signed out ----------------------------------------------------------
  //
  // The demo backend keeps no session (no cookie, nothing server-side): being signed
  // in is this page's state alone, and signing out clears it here.

  function signedIn(who, how) {
    const el = $('signed-in');
    el.textContent = `Signed in as ${who} with ${how}.`;
    el.dataset.state = how;
    $('sign-out').hidden = false;
  }

  function signOut() {
    stopRpPoll();
    const status = $('push-rp-status');
    if (status.dataset.status === 'pending') {
      rpStatus('none');
      show($('push-rp-message'), 'Signed out: this page no longer waits for the request sent to your phone.');
    }
    // The panes' "signed in" lines are out of date now.
    for (const id of ['passkeys-status', 'totp-status', 'push-rp-message']) {
      if (/signed in/i.test($(id).textContent)) show($(id), '');
    }
    const el = $('signed-in');
    el.textContent = 'Signed out.';
    el.dataset.state = 'none';
    $('sign-out').hidden = true;
    $('identity').focus();
  }

  $('sign-out').addEventListener('click', signOut);

  function webauthnReady() {
    if (!window.isSecureContext) {
      throw new Error(`Passkeys need a secure page: open ${config ? config.origin : 'http://localhost:8080'} instead.`);
    }
    if (!window.PublicKeyCredential || typeof PublicKeyCredential.parseCreationOptionsFromJSON !== 'function') {
      throw new Error('This browser is too old for this demo\'s passkeys (it lacks PublicKeyCredential.parseCreationOptionsFromJSON): try a current Chrome, Edge, Firefox or Safari.');
    }
  }

  // ---- config ---------------------------------------------------------------------

  async function loadConfig() {
    config = await demo('GET', '/config');
    const el = $('config');
    el.dataset.serviceSid = config.service_sid;
    $('config-service').textContent = `${config.service_sid} ("verify web demo")`;
    $('config-rp').textContent = config.rp_id;
    $('config-origin').textContent = config.origin;
    $('config-api').textContent = `${config.api}/Services/${config.service_sid}`;
    if (window.location.origin !== config.origin) {
      show(
        $('page-status'),
        `This page is open at ${window.location.origin}, but its passkeys only work at ${config.origin}: open that address instead.`,
        'error',
      );
    }
  }

  // ---- passkeys -------------------------------------------------------------------

  const passkeyStatus = $('passkeys-status');

  async function listPasskeys() {
    const id = identity();
    const { factors } = await demo('GET', `/users/${encodeURIComponent(id)}/factors`);
    const list = $('passkeys');
    list.replaceChildren();
    const passkeys = factors.filter((f) => f.factor_type === 'passkeys');
    for (const factor of passkeys) {
      const li = document.createElement('li');
      li.dataset.sid = factor.sid;
      const text = document.createElement('span');
      const added = when(factor.date_created);
      text.textContent = `${factor.friendly_name}, added ${added}${factor.status === 'verified' ? '' : ' (setup not finished)'}`;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'secondary';
      remove.textContent = 'Delete';
      remove.setAttribute('aria-label', `Delete ${factor.friendly_name} added ${added}`);
      remove.addEventListener('click', async () => {
        remove.disabled = true;
        try {
          await demo('DELETE', `/users/${encodeURIComponent(id)}/factors/${factor.sid}`);
          show(passkeyStatus, 'Passkey deleted. Your authenticator may still list it, but it no longer signs you in here.', 'ok');
          await listPasskeys();
          $('passkey-list').focus();
        } catch (err) {
          remove.disabled = false;
          show(passkeyStatus, describe(err), 'error');
        }
      });
      li.append(text, remove);
      list.append(li);
    }
    if (passkeys.length === 0) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = `${id} has no passkeys yet.`;
      list.append(li);
    }
  }

  on('passkey-register', passkeyStatus, async () => {
    webauthnReady();
    const id = identity();
    show(passkeyStatus, 'Follow your browser\'s prompt to create the passkey…');
    const created = await demo('POST', '/passkeys/register', { identity: id });
    let credential;
    try {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(created.options.publicKey);
      credential = await navigator.credentials.create({ publicKey });
    } catch (err) {
      // No passkey was made: drop the half-made factor so it does not linger in the list.
      await demo('DELETE', `/users/${encodeURIComponent(id)}/factors/${created.factor_sid}`).catch(() => {});
      throw err;
    }
    const { factor } = await demo('POST', '/passkeys/register/finish', {
      identity: id,
      factor_sid: created.factor_sid,
      credential: credential.toJSON(),
    });
    if (factor.status !== 'verified') throw new Error('The server did not accept the new passkey: try again.');
    show(passkeyStatus, `Passkey added for ${id}. Now sign in with it (b).`, 'ok');
    await listPasskeys();
  });

  on('passkey-signin', passkeyStatus, async () => {
    webauthnReady();
    const id = identity({ optional: true });
    show(passkeyStatus, id ? `Follow your browser's prompt to use ${id}'s passkey…` : 'Follow your browser\'s prompt and pick a passkey…');
    const started = await demo('POST', '/passkeys/signin', id ? { identity: id } : {});
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(started.options.publicKey);
    const credential = await navigator.credentials.get({ publicKey });
    const done = await demo('POST', '/passkeys/signin/finish', {
      challenge_sid: started.challenge_sid,
      credential: credential.toJSON(),
    });
    if (!id && done.identity) {
      $('identity').value = done.identity;
      listQuietly();
    }
    show(passkeyStatus, id ? `Signed in as ${done.identity} with your passkey.` : `Signed in with your passkey: it says you are ${done.identity}.`, 'ok');
    signedIn(done.identity, 'a passkey');
  });

  on('passkey-list', passkeyStatus, async () => {
    await listPasskeys();
    show(passkeyStatus, '');
  });

  // The list follows the user name (quietly: a half-typed name is no error).
  function listQuietly() {
    const value = $('identity').value.trim();
    if (value.length < 8 || value.length > 64 || !IDENTITY.test(value)) {
      $('passkeys').replaceChildren();
      return;
    }
    listPasskeys().catch(() => {});
  }

  $('identity').addEventListener('change', listQuietly);

  // ---- TOTP -----------------------------------------------------------------------

  const totpStatus = $('totp-status');
  let totpEnrollment = null;
  let qrUrl = null;

  on('totp-enroll', totpStatus, async () => {
    const id = identity();
    const created = await demo('POST', '/totp/enroll', { identity: id });
    totpEnrollment = { identity: id, factorSid: created.factor_sid };
    const { text: svg } = await call(
      'website',
      'POST',
      '/demo/api/qr',
      { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: created.uri }) },
      { text: created.uri },
    );
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
    $('totp-qr').src = qrUrl;
    $('totp-secret').textContent = created.secret;
    $('totp-verify-code').value = '';
    $('totp-enrollment').hidden = false;
    show(totpStatus, 'QR code ready: scan it with your authenticator app, then type the code the app shows and press Confirm.', 'ok');
    $('totp-verify-code').focus();
  });

  on('totp-verify', totpStatus, async () => {
    if (!totpEnrollment) throw new Error('Add an authenticator app first (a).');
    const code = $('totp-verify-code').value.trim();
    if (code === '') throw new Error('Type the code your authenticator app shows.');
    const { factor } = await demo('POST', '/totp/verify', {
      identity: totpEnrollment.identity,
      factor_sid: totpEnrollment.factorSid,
      code,
    });
    if (factor.status !== 'verified') throw new Error('The server did not accept the code: try the next one.');
    $('totp-enrollment').hidden = true;
    show(totpStatus, `Authenticator app added for ${totpEnrollment.identity}. Sign in (b) with the next code it shows: each code works once.`, 'ok');
    $('totp-signin-code').focus();
  });

  on('totp-signin', totpStatus, async () => {
    const id = identity();
    const code = $('totp-signin-code').value.trim();
    if (code === '') throw new Error('Type the code your authenticator app shows.');
    const done = await demo('POST', '/totp/signin', { identity: id, code });
    show(totpStatus, `Signed in as ${done.identity} with a code from your authenticator app.`, 'ok');
    signedIn(done.identity, 'an authenticator app');
  });

  enterPresses('totp-verify-code', 'totp-verify');
  enterPresses('totp-signin-code', 'totp-signin');

  // ---- push: the website ------------------------------------------------------------

  const pushMessage = $('push-rp-message');
  const RP_STATUS = {
    none: 'none sent',
    pending: 'waiting for your phone',
    approved: 'approved',
    denied: 'denied',
    expired: 'expired without an answer',
  };
  let rpPoll = null;
  let rpRun = 0; // which request the poll follows: sign-out or a new request ends the last one

  function stopRpPoll() {
    if (rpPoll) clearTimeout(rpPoll);
    rpPoll = null;
    rpRun += 1;
  }

  // The visible words, and the status and challenge sid as data- attributes.
  function rpStatus(status, sid) {
    const el = $('push-rp-status');
    el.textContent = RP_STATUS[status] || status;
    el.dataset.status = status;
    if (sid) el.dataset.challengeSid = sid;
    else delete el.dataset.challengeSid;
  }

  on('push-send', pushMessage, async () => {
    const id = identity();
    stopRpPoll();
    const { challenge } = await demo('POST', '/push/challenge', { identity: id });
    const run = rpRun;
    rpStatus(challenge.status, challenge.sid);
    show(pushMessage, 'Approval request sent to your phone: approve it there (c).');
    const poll = async () => {
      try {
        const polled = await demoCall('GET', `/users/${encodeURIComponent(id)}/challenges/${challenge.sid}`, undefined, {
          quiet: true,
        });
        if (run !== rpRun) return; // signed out, or another request sent, meanwhile
        const now = polled.json.challenge;
        if (now.status !== 'pending') polled.log();
        rpStatus(now.status, now.sid);
        if (now.status === 'pending') {
          rpPoll = setTimeout(poll, 1000);
          return;
        }
        rpPoll = null;
        if (now.status === 'approved') {
          show(pushMessage, `Your phone approved the request: signed in as ${id}.`, 'ok');
          signedIn(id, 'push approval');
        } else if (now.status === 'denied') {
          show(pushMessage, 'Your phone denied the request: not signed in.', 'error');
        } else {
          show(pushMessage, 'Nobody answered on the phone in time: the request expired. Send another.', 'error');
        }
      } catch (err) {
        if (run !== rpRun) return;
        rpPoll = null;
        show(pushMessage, describe(err), 'error');
      }
    };
    rpPoll = setTimeout(poll, 1000);
  });

  // ---- push: the phone --------------------------------------------------------------
  //
  // docs/push-protocol.md: the factor is created with `Basic base64("token:" + accessToken)`,
  // verified with the DER ECDSA signature of its sid, and every later call carries
  // `Basic base64("token:" + JWT)`, the JWT ES256-signed by the device key.

  const deviceStatus = $('device-status');
  let device = null;
  let clockOffset = 0; // seconds to add to the local clock (from a 401's Date header)
  let devicePoll = null;
  let shownChallenges = '';

  function db() {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open('verify-demo-device', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('device');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }

  async function store(op, value) {
    const handle = await db();
    try {
      return await new Promise((resolve, reject) => {
        const tx = handle.transaction('device', op === 'get' ? 'readonly' : 'readwrite');
        const objects = tx.objectStore('device');
        const req = op === 'get' ? objects.get('device') : op === 'put' ? objects.put(value, 'device') : objects.delete('device');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    } finally {
      handle.close();
    }
  }

  async function sign(key, bytes) {
    return new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, bytes));
  }

  // WebCrypto signs in IEEE P1363 form (r ‖ s); factor verification wants DER.
  function derSignature(raw) {
    const integer = (bytes) => {
      let start = 0;
      while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
      let body = bytes.slice(start);
      if (body[0] & 0x80) body = Uint8Array.of(0, ...body);
      return Uint8Array.of(0x02, body.length, ...body);
    };
    const r = integer(raw.slice(0, 32));
    const s = integer(raw.slice(32, 64));
    return Uint8Array.of(0x30, r.length + s.length, ...r, ...s);
  }

  async function jws(key, header, payload) {
    const input = `${b64url(utf8(JSON.stringify(header)))}.${b64url(utf8(JSON.stringify(payload)))}`;
    return `${input}.${b64url(await sign(key, utf8(input)))}`;
  }

  async function deviceJwt() {
    const now = Math.floor(Date.now() / 1000) + clockOffset;
    return jws(
      device.privateKey,
      { cty: 'twilio-pba;v=1', kid: device.credentialSid, typ: 'JWT', alg: 'ES256' },
      { sub: device.accountSid, exp: now + 600, nbf: now },
    );
  }

  // A /v2 call authenticated as the device; on a 401 carrying a Date header the
  // clock offset is corrected and the call retried once (as the SDKs do).
  async function deviceCall(method, path, form, { quiet = false } = {}, retried = false) {
    const init = { headers: { authorization: `Basic ${btoa(`token:${await deviceJwt()}`)}` } };
    if (form) {
      init.headers['content-type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(form).toString();
    }
    const url = `/v2/Services/${device.serviceSid}/Entities/${encodeURIComponent(device.identity)}${path}`;
    try {
      return await call('phone', method, url, init, form, { quiet });
    } catch (err) {
      if (err.name === 'ApiFailure' && err.status === 401 && !retried && err.date) {
        const skew = Math.round(Date.parse(err.date) / 1000 - Date.now() / 1000);
        if (Number.isFinite(skew) && Math.abs(skew - clockOffset) > 5) {
          clockOffset = skew;
          return deviceCall(method, path, form, { quiet }, true);
        }
      }
      throw err;
    }
  }

  function renderDevice() {
    const el = $('device-state');
    if (!device) {
      el.textContent = 'Not set up yet.';
      el.dataset.state = 'none';
      return;
    }
    el.textContent = device.verified
      ? `Set up for ${device.identity}: it can approve ${device.identity}'s sign-ins.`
      : `Being set up for ${device.identity}…`;
    el.dataset.state = device.verified ? 'verified' : 'unverified';
  }

  function renderEmpty() {
    $('device-empty').hidden = $('device-challenges').children.length > 0;
  }

  on('device-enroll', deviceStatus, async () => {
    const id = identity();
    stopDevicePoll();
    show(deviceStatus, 'Asking the website for a one-time setup code…');
    const token = await demo('POST', '/push/token', { identity: id });
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
    show(deviceStatus, 'Registering this phone\'s key with the server…');
    const form = {
      FactorType: 'push',
      FriendlyName: 'Demo browser device',
      'Binding.PublicKey': b64(spki),
      'Binding.Alg': 'ES256',
      'Config.AppId': 'com.example.verify-web-demo',
      'Config.NotificationPlatform': 'none',
      'Config.SdkVersion': 'verify-web-demo-0.1.0',
    };
    const { json: factor } = await call(
      'phone',
      'POST',
      `/v2/Services/${token.service_sid}/Entities/${encodeURIComponent(id)}/Factors`,
      {
        headers: {
          authorization: `Basic ${btoa(`token:${token.token}`)}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(form).toString(),
      },
      form,
    );
    if (!factor || !factor.config || !factor.config.credential_sid) {
      throw new Error('The server\'s answer to the phone lacks config.credential_sid (see step 5).');
    }
    device = {
      serviceSid: token.service_sid,
      identity: id,
      factorSid: factor.sid,
      credentialSid: factor.config.credential_sid,
      accountSid: factor.account_sid,
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
      verified: false,
    };
    await store('put', device);
    renderDevice();
    show(deviceStatus, 'Proving to the server that this phone holds its key…');
    const signature = derSignature(await sign(device.privateKey, utf8(factor.sid)));
    const { json: verified } = await deviceCall('POST', `/Factors/${factor.sid}`, { AuthPayload: b64(signature) });
    device.verified = verified.status === 'verified';
    await store('put', device);
    renderDevice();
    if (!device.verified) throw new Error(`The server did not accept this phone's key (it says ${verified.status}): set it up again.`);
    show(deviceStatus, `This phone is set up: it will show ${id}'s sign-in requests here. Now send one from the website (b).`, 'ok');
    startDevicePoll();
  });

  async function refreshChallenges() {
    if (!device || !device.verified) throw new Error('Set up this phone first (a).');
    const query = new URLSearchParams({ FactorSid: device.factorSid, Status: 'pending', Order: 'desc' });
    const listed = await deviceCall('GET', `/Challenges?${query}`, null, { quiet: true });
    const pending = listed.json.challenges || [];
    const key = pending.map((c) => c.sid).join(',');
    if (key === shownChallenges) return pending.length;
    listed.log();
    const list = $('device-challenges');
    const items = [];
    for (const summary of pending) {
      // Fetch each to sign it: the JSON as served and the fields the signature covers.
      const { json: served, headers } = await deviceCall('GET', `/Challenges/${summary.sid}`);
      const fields = (headers.get('Twilio-Verify-Signature-Fields') || '').split(',').filter(Boolean);
      items.push(challengeItem(served, fields));
    }
    list.replaceChildren(...items);
    renderEmpty();
    shownChallenges = key;
    return pending.length;
  }

  function challengeItem(served, fields) {
    const li = document.createElement('li');
    li.dataset.sid = served.sid;
    const box = document.createElement('div');
    const message = document.createElement('strong');
    message.textContent = (served.details && served.details.message) || 'Sign-in request';
    const dl = document.createElement('dl');
    for (const field of (served.details && served.details.fields) || []) {
      const dt = document.createElement('dt');
      dt.textContent = field.label;
      const dd = document.createElement('dd');
      dd.textContent = field.value;
      dl.append(dt, dd);
    }
    const meta = document.createElement('div');
    meta.className = 'muted';
    const expires = new Date(served.expiration_date);
    meta.textContent = Number.isNaN(expires.getTime()) ? '' : `Expires at ${expires.toLocaleTimeString()}`;
    box.append(message, dl, meta);
    const buttons = document.createElement('div');
    buttons.className = 'row';
    for (const status of ['approved', 'denied']) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = status === 'approved' ? 'approve' : 'deny secondary';
      button.textContent = status === 'approved' ? 'Approve' : 'Deny';
      button.addEventListener('click', async () => {
        for (const b of buttons.querySelectorAll('button')) b.disabled = true;
        try {
          const answered = await respond(served, fields, status);
          show(deviceStatus, answered.status === 'approved' ? 'You approved the request.' : 'You denied the request.', 'ok');
          li.remove();
          renderEmpty();
          shownChallenges = '';
          $('device-refresh').focus();
        } catch (err) {
          for (const b of buttons.querySelectorAll('button')) b.disabled = false;
          show(deviceStatus, describe(err), 'error');
        }
      });
      buttons.append(button);
    }
    li.append(box, buttons);
    return li;
  }

  // The JWS over the signed fields' values exactly as served, plus the decision.
  async function respond(served, fields, status) {
    if (!fields.includes('sid')) {
      throw new Error('The server did not name the fields to sign (Twilio-Verify-Signature-Fields): see step 5.');
    }
    const payload = {};
    for (const field of fields) {
      if (!(field in served)) throw new Error(`The request lacks the signed field ${field}: see step 5.`);
      payload[field] = served[field];
    }
    payload.status = status;
    const authPayload = await jws(device.privateKey, { typ: 'JWT', alg: 'ES256' }, payload);
    const { json } = await deviceCall('POST', `/Challenges/${served.sid}`, { AuthPayload: authPayload });
    return json;
  }

  function stopDevicePoll() {
    if (devicePoll) clearTimeout(devicePoll);
    devicePoll = null;
  }

  function startDevicePoll() {
    stopDevicePoll();
    const tick = async () => {
      try {
        await refreshChallenges();
        devicePoll = setTimeout(tick, 3000);
      } catch (err) {
        devicePoll = null;
        show(deviceStatus, `Stopped checking for requests: ${describe(err)} If the server's database was reset, forget this phone and set it up again.`, 'error');
      }
    };
    devicePoll = setTimeout(tick, 0);
  }

  on('device-refresh', deviceStatus, async () => {
    shownChallenges = '';
    const count = await refreshChallenges();
    show(deviceStatus, `${plural(count, 'request')} waiting.`, 'ok');
    if (!devicePoll) startDevicePoll();
  });

  on('device-forget', deviceStatus, async () => {
    stopDevicePoll();
    await store('delete');
    device = null;
    shownChallenges = '';
    $('device-challenges').replaceChildren();
    renderEmpty();
    renderDevice();
    show(deviceStatus, 'This phone was forgotten here (the server keeps its registration until it is deleted).', 'ok');
  });

  // ---- start ------------------------------------------------------------------------

  async function start() {
    try {
      await loadConfig();
    } catch (err) {
      show($('page-status'), `The demo backend did not answer: ${describe(err)}`, 'error');
      return;
    }
    listQuietly();
    try {
      const saved = await store('get');
      if (saved && saved.serviceSid === config.service_sid) {
        device = saved;
        renderDevice();
        if (device.verified) startDevicePoll();
      }
    } catch (err) {
      show(deviceStatus, `This browser could not keep the phone's key (IndexedDB): ${describe(err)}`, 'error');
    }
  }

  start();
})();
