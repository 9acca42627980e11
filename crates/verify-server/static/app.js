// The verify web demo: a relying party page over the demo backend (/demo/api) and a
// simulated push device that calls /v2 exactly as the mobile SDKs do.
// Plain script, no dependencies, nothing loaded from the network.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const IDENTITY = /^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/;
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

  // An error answer of the API or the demo backend, shown as the server wrote it.
  async function answer(res) {
    const text = await res.text();
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!res.ok) {
      if (json && typeof json.message === 'string') {
        throw new Error(`${json.message} (HTTP ${res.status}, code ${json.code})`);
      }
      throw new Error(`HTTP ${res.status} ${res.statusText}: ${text.slice(0, 300)}`);
    }
    return json;
  }

  async function demo(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return answer(await fetch(`/demo/api${path}`, init));
  }

  function describe(err) {
    if (err && err.name && err.name !== 'Error') return `${err.name}: ${err.message}`;
    return err && err.message ? err.message : String(err);
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

  function identity({ optional = false } = {}) {
    const value = $('identity').value.trim();
    if (optional && value === '') return null;
    if (value.length < 8 || value.length > 64 || !IDENTITY.test(value)) {
      throw new Error('User id: 8 to 64 letters and digits, in groups separated by single dashes (never an email or a name)');
    }
    return value;
  }

  function signedIn(who, how) {
    const el = $('signed-in');
    el.textContent = `Signed in as ${who} with ${how}.`;
    el.dataset.state = how;
    el.className = 'status ok';
  }

  function webauthnReady() {
    if (!window.isSecureContext) {
      throw new Error(`Passkeys need a secure context: open ${config ? config.origin : 'http://localhost:8080'}`);
    }
    if (!window.PublicKeyCredential || typeof PublicKeyCredential.parseCreationOptionsFromJSON !== 'function') {
      throw new Error('This browser lacks PublicKeyCredential.parseCreationOptionsFromJSON (WebAuthn Level 3)');
    }
  }

  // ---- config ---------------------------------------------------------------------

  async function loadConfig() {
    config = await demo('GET', '/config');
    const el = $('config');
    el.textContent = `Service ${config.service_sid} · relying party ID ${config.rp_id} · origin ${config.origin}`;
    if (window.location.origin !== config.origin) {
      el.textContent += ` · this page is open at ${window.location.origin}: open ${config.origin} for passkeys to work`;
      el.className = 'status error';
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
      text.textContent = `${factor.friendly_name} · ${factor.status} · ${factor.sid} · ${factor.date_created}`;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'secondary';
      remove.textContent = 'Delete';
      remove.addEventListener('click', async () => {
        remove.disabled = true;
        try {
          await demo('DELETE', `/users/${encodeURIComponent(id)}/factors/${factor.sid}`);
          show(passkeyStatus, `Deleted passkey ${factor.sid}.`, 'ok');
          await listPasskeys();
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
      li.textContent = `${id} has no passkeys.`;
      list.append(li);
    }
  }

  on('passkey-register', passkeyStatus, async () => {
    webauthnReady();
    const id = identity();
    show(passkeyStatus, 'Asking the authenticator to create a passkey…');
    const created = await demo('POST', '/passkeys/register', { identity: id });
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(created.options.publicKey);
    const credential = await navigator.credentials.create({ publicKey });
    const { factor } = await demo('POST', '/passkeys/register/finish', {
      identity: id,
      factor_sid: created.factor_sid,
      credential: credential.toJSON(),
    });
    show(passkeyStatus, `Passkey registered: factor ${factor.sid} is ${factor.status}.`, 'ok');
    await listPasskeys();
  });

  on('passkey-signin', passkeyStatus, async () => {
    webauthnReady();
    const id = identity({ optional: true });
    show(passkeyStatus, id ? `Asking the authenticator for ${id}'s passkey…` : 'Asking the authenticator for any passkey (usernameless)…');
    const started = await demo('POST', '/passkeys/signin', id ? { identity: id } : {});
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(started.options.publicKey);
    const credential = await navigator.credentials.get({ publicKey });
    const done = await demo('POST', '/passkeys/signin/finish', {
      challenge_sid: started.challenge_sid,
      credential: credential.toJSON(),
    });
    show(passkeyStatus, `Signed in: challenge ${done.challenge.sid} is ${done.challenge.status}.`, 'ok');
    if (!id && done.identity) $('identity').value = done.identity;
    signedIn(done.identity, 'a passkey');
  });

  on('passkey-list', passkeyStatus, async () => {
    await listPasskeys();
    show(passkeyStatus, '');
  });

  // ---- TOTP -----------------------------------------------------------------------

  const totpStatus = $('totp-status');
  let totpEnrollment = null;
  let qrUrl = null;

  on('totp-enroll', totpStatus, async () => {
    const id = identity();
    const created = await demo('POST', '/totp/enroll', { identity: id });
    totpEnrollment = { identity: id, factorSid: created.factor_sid };
    const res = await fetch('/demo/api/qr', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: created.uri }),
    });
    if (!res.ok) await answer(res);
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = URL.createObjectURL(await res.blob());
    $('totp-qr').src = qrUrl;
    $('totp-secret').textContent = created.secret;
    $('totp-enrollment').hidden = false;
    show(totpStatus, `Factor ${created.factor_sid} created (unverified): enter the app's first code.`, 'ok');
  });

  on('totp-verify', totpStatus, async () => {
    if (!totpEnrollment) throw new Error('Enroll an authenticator app first');
    const code = $('totp-verify-code').value.trim();
    const { factor } = await demo('POST', '/totp/verify', {
      identity: totpEnrollment.identity,
      factor_sid: totpEnrollment.factorSid,
      code,
    });
    show(totpStatus, `Authenticator app ${factor.status}: factor ${factor.sid}.`, factor.status === 'verified' ? 'ok' : 'error');
    if (factor.status === 'verified') $('totp-enrollment').hidden = true;
  });

  on('totp-signin', totpStatus, async () => {
    const id = identity();
    const code = $('totp-signin-code').value.trim();
    const done = await demo('POST', '/totp/signin', { identity: id, code });
    show(totpStatus, `Signed in: challenge ${done.challenge.sid} is ${done.challenge.status}.`, 'ok');
    signedIn(done.identity, 'an authenticator app');
  });

  // ---- push: the relying party ----------------------------------------------------

  const pushMessage = $('push-rp-message');
  let rpPoll = null;

  function rpStatus(status) {
    const el = $('push-rp-status');
    el.textContent = status;
    el.dataset.status = status;
  }

  on('push-send', pushMessage, async () => {
    const id = identity();
    if (rpPoll) clearTimeout(rpPoll);
    const { challenge } = await demo('POST', '/push/challenge', { identity: id });
    rpStatus(challenge.status);
    show(pushMessage, `Challenge ${challenge.sid} sent to factor ${challenge.factor_sid}; waiting for the device…`);
    const poll = async () => {
      try {
        const { challenge: now } = await demo('GET', `/users/${encodeURIComponent(id)}/challenges/${challenge.sid}`);
        rpStatus(now.status);
        if (now.status === 'pending') {
          rpPoll = setTimeout(poll, 1000);
        } else {
          show(pushMessage, `Challenge ${now.sid} ${now.status}.`, now.status === 'approved' ? 'ok' : 'error');
          if (now.status === 'approved') signedIn(id, 'push approval');
        }
      } catch (err) {
        show(pushMessage, describe(err), 'error');
      }
    };
    rpPoll = setTimeout(poll, 1000);
  });

  // ---- push: the device -------------------------------------------------------------
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
  async function deviceCall(method, path, form, retried = false) {
    const init = { method, headers: { authorization: `Basic ${btoa(`token:${await deviceJwt()}`)}` } };
    if (form) {
      init.headers['content-type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(form).toString();
    }
    const res = await fetch(`/v2/Services/${device.serviceSid}/Entities/${encodeURIComponent(device.identity)}${path}`, init);
    const date = res.headers.get('date');
    if (res.status === 401 && !retried && date) {
      const skew = Math.round(Date.parse(date) / 1000 - Date.now() / 1000);
      if (Number.isFinite(skew) && Math.abs(skew - clockOffset) > 5) {
        clockOffset = skew;
        return deviceCall(method, path, form, true);
      }
    }
    const json = await answer(res);
    return { json, headers: res.headers };
  }

  function renderDevice() {
    const el = $('device-state');
    if (!device) {
      el.textContent = 'No device enrolled.';
      el.dataset.state = 'none';
      return;
    }
    el.textContent = `Device for ${device.identity}: factor ${device.factorSid} (${device.verified ? 'verified' : 'unverified'}).`;
    el.dataset.state = device.verified ? 'verified' : 'unverified';
  }

  on('device-enroll', deviceStatus, async () => {
    const id = identity();
    stopDevicePoll();
    show(deviceStatus, 'Asking the relying party for an enrollment token…');
    const token = await demo('POST', '/push/token', { identity: id });
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
    const res = await fetch(`/v2/Services/${token.service_sid}/Entities/${encodeURIComponent(id)}/Factors`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`token:${token.token}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        FactorType: 'push',
        FriendlyName: 'Demo browser device',
        'Binding.PublicKey': b64(spki),
        'Binding.Alg': 'ES256',
        'Config.AppId': 'com.example.verify-web-demo',
        'Config.NotificationPlatform': 'none',
        'Config.SdkVersion': 'verify-web-demo-0.1.0',
      }).toString(),
    });
    const factor = await answer(res);
    if (!factor.config || !factor.config.credential_sid) {
      throw new Error(`The factor response lacks config.credential_sid: ${JSON.stringify(factor)}`);
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
    show(deviceStatus, `Factor ${factor.sid} created; verifying it by signing its sid…`);
    const signature = derSignature(await sign(device.privateKey, utf8(factor.sid)));
    const { json: verified } = await deviceCall('POST', `/Factors/${factor.sid}`, { AuthPayload: b64(signature) });
    device.verified = verified.status === 'verified';
    await store('put', device);
    renderDevice();
    if (!device.verified) throw new Error(`Factor ${factor.sid} is ${verified.status} after verification`);
    show(deviceStatus, `Device enrolled and verified: factor ${factor.sid}.`, 'ok');
    startDevicePoll();
  });

  async function refreshChallenges() {
    if (!device || !device.verified) throw new Error('Enroll this device first');
    const query = new URLSearchParams({ FactorSid: device.factorSid, Status: 'pending', Order: 'desc' });
    const { json } = await deviceCall('GET', `/Challenges?${query}`);
    const pending = json.challenges || [];
    const key = pending.map((c) => c.sid).join(',');
    if (key === shownChallenges) return pending.length;
    const list = $('device-challenges');
    const items = [];
    for (const summary of pending) {
      // Fetch each to sign it: the JSON as served and the fields the signature covers.
      const { json: served, headers } = await deviceCall('GET', `/Challenges/${summary.sid}`);
      const fields = (headers.get('Twilio-Verify-Signature-Fields') || '').split(',').filter(Boolean);
      items.push(challengeItem(served, fields));
    }
    list.replaceChildren(...items);
    shownChallenges = key;
    return pending.length;
  }

  function challengeItem(served, fields) {
    const li = document.createElement('li');
    li.dataset.sid = served.sid;
    const box = document.createElement('div');
    const message = document.createElement('strong');
    message.textContent = (served.details && served.details.message) || '(no message)';
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
    meta.textContent = `${served.sid} · expires ${served.expiration_date}`;
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
          show(deviceStatus, `Challenge ${answered.sid} ${answered.status}.`, 'ok');
          li.remove();
          shownChallenges = '';
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
      throw new Error('The challenge fetch did not name its signed fields (Twilio-Verify-Signature-Fields)');
    }
    const payload = {};
    for (const field of fields) {
      if (!(field in served)) throw new Error(`The served challenge lacks the signed field ${field}`);
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
        show(deviceStatus, `Stopped checking for challenges: ${describe(err)}. If the server's database was reset, forget this device and enroll it again.`, 'error');
      }
    };
    devicePoll = setTimeout(tick, 0);
  }

  on('device-refresh', deviceStatus, async () => {
    shownChallenges = '';
    const count = await refreshChallenges();
    show(deviceStatus, `${count} pending challenge${count === 1 ? '' : 's'}.`, 'ok');
    if (!devicePoll) startDevicePoll();
  });

  on('device-forget', deviceStatus, async () => {
    stopDevicePoll();
    await store('delete');
    device = null;
    shownChallenges = '';
    $('device-challenges').replaceChildren();
    renderDevice();
    show(deviceStatus, 'Device forgotten (its factor stays on the server until deleted).', 'ok');
  });

  // ---- start ------------------------------------------------------------------------

  async function start() {
    try {
      await loadConfig();
    } catch (err) {
      show($('config'), `The demo backend did not answer: ${describe(err)}`, 'error');
      return;
    }
    try {
      const saved = await store('get');
      if (saved && saved.serviceSid === config.service_sid) {
        device = saved;
        renderDevice();
        if (device.verified) startDevicePoll();
      }
    } catch (err) {
      show(deviceStatus, `IndexedDB: ${describe(err)}`, 'error');
    }
  }

  start();
})();
