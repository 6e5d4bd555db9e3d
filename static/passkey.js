// Passkeys: sign-in by button and by autofill, adding a passkey, and step-up. No inline scripts (strict CSP).
//
// The server speaks JSON on these endpoints: options come as {"publicKey": {...}} with base64url fields,
// answers as {"redirect": url} or {"error": "日本語のメッセージ"}. Every wait has a limit, so the page never hangs.
(function () {
  "use strict";
  // Loaded only by the pages that use it, at the end of <body>: a boosted htmx navigation to another such page
  // runs this file again, which then only wires the new page.
  if (window.kaiinPasskey) { window.kaiinPasskey.init(); return; }

  var FETCH_TIMEOUT_MS = 20000;
  var MSG = {
    unsupported: "お使いのブラウザはパスキーに対応していません。カード番号またはログインIDでログインしてください。",
    unsupportedAdd: "お使いのブラウザはパスキーに対応していません。別のブラウザか端末でお試しください。",
    cancelled: "パスキーの操作がキャンセルされたか、この端末に使えるパスキーが見つかりませんでした。もう一度お試しいただくか、カード番号またはログインIDでログインしてください。",
    cancelledAdd: "パスキーの登録がキャンセルされました。もう一度お試しください。",
    exists: "この端末のパスキーはすでに登録されています。",
    insecure: "この接続ではパスキーを使えません。正しいアドレスで開き直してください。",
    timeout: "時間内に応答がありませんでした。もう一度お試しください。",
    network: "通信できませんでした。電波の良い所で、もう一度お試しください。",
    busy: "短い時間に多くの操作がありました。しばらくしてからお試しください。",
    maintenance: "ただいまメンテナンス中のため、ご利用いただけません。",
    expired: "画面の有効期限が切れました。ページを読み込み直して、もう一度お試しください。",
    failed: "パスキーを確認できませんでした。もう一度お試しください。",
    working: "パスキーを確認しています…"
  };

  // --- base64url <-> ArrayBuffer -------------------------------------------------------------------
  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withBuffers(list) {
    return (list || []).map(function (item) { return Object.assign({}, item, { id: toBuffer(item.id) }); });
  }
  function creationOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = toBuffer(json.challenge);
    o.user = Object.assign({}, json.user, { id: toBuffer(json.user.id) });
    o.excludeCredentials = withBuffers(json.excludeCredentials);
    return o;
  }
  function requestOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = toBuffer(json.challenge);
    o.allowCredentials = withBuffers(json.allowCredentials);
    return o;
  }
  function credentialJSON(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: toText(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      out.response.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return out;
  }

  // --- talking to the server -----------------------------------------------------------------------
  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers:inherited") || "{}");
      if (headers["x-csrftoken"]) return headers["x-csrftoken"];
    } catch (e) { /* fall through */ }
    var field = document.querySelector('input[name="_csrf_token"]');
    return field ? field.value : "";
  }

  function post(url, body) {
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, FETCH_TIMEOUT_MS);
    return fetch(url, {
      method: "POST", credentials: "same-origin", signal: controller.signal,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "x-csrftoken": csrfToken() },
      body: body === undefined ? "{}" : JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (e) { data = null; }
        if (response.ok && data) return data;
        if (response.redirected && !data) {  // e.g. sent to ご本人確認 or to sign in again
          window.location.assign(response.url);
          throw new Error(MSG.working);
        }
        throw new Error((data && data.error) || statusMessage(response.status));
      });
    }, function (error) {
      throw new Error(error && error.name === "AbortError" ? MSG.timeout : MSG.network);
    }).finally(function () { window.clearTimeout(timer); });
  }

  function statusMessage(status) {
    if (status === 503) return MSG.maintenance;
    if (status === 429) return MSG.busy;
    if (status === 403) return MSG.expired;
    return MSG.failed;
  }

  function ceremonyMessage(error, adding) {
    switch (error && error.name) {
      case "NotAllowedError": return adding ? MSG.cancelledAdd : MSG.cancelled;
      case "InvalidStateError": return MSG.exists;
      case "SecurityError": return MSG.insecure;
      case "NotSupportedError": return adding ? MSG.unsupportedAdd : MSG.unsupported;
      case "AbortError": return MSG.timeout;
      default: return (error && error.message) || MSG.failed;
    }
  }

  // A WebAuthn call that settles by itself within its timeout; this guard makes sure of it anyway.
  function guarded(call, timeoutMs, controller) {
    var timer = window.setTimeout(function () { controller.abort(); }, timeoutMs + 5000);
    return call().finally(function () { window.clearTimeout(timer); });
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.get);
  }

  function say(box, text, isError) {
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
    box.classList.toggle("error", !!isError);
  }

  function withQuery(url, params) {
    var query = Object.keys(params).filter(function (k) { return params[k]; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
    return query ? url + (url.indexOf("?") < 0 ? "?" : "&") + query : url;
  }

  // --- sign-in: button (modal) and autofill (conditional) ------------------------------------------
  var pending = null;     // the AbortController of a waiting autofill request (only one get() at a time)
  var modal = false;      // a button sign-in is running: autofill waits
  var autofillFailures = 0;
  var AUTOFILL_RETRIES = 3;
  var REPLACED = "replaced";

  function signIn(root, mediation) {
    var box = root.querySelector("[data-passkey-status]");
    var optionsUrl = root.getAttribute("data-options-url"), finishUrl = root.getAttribute("data-finish-url");
    var next = root.getAttribute("data-next") || "";
    var controller = new AbortController();
    if (mediation === "conditional") pending = controller;
    return post(optionsUrl).then(function (data) {
      var options = requestOptions(data.publicKey);
      var request = { publicKey: options, signal: controller.signal };
      if (mediation) request.mediation = mediation;
      else say(box, MSG.working, false);
      return guarded(function () { return navigator.credentials.get(request); }, options.timeout || 120000, controller)
        .then(function (cred) {
          if (!cred) throw new Error(MSG.cancelled);
          say(box, MSG.working, false);
          return post(withQuery(finishUrl, { next: next }), credentialJSON(cred));
        }, function (error) {
          if (mediation === "conditional" && controller.signal.aborted && controller !== pending) return REPLACED;
          throw new Error(ceremonyMessage(error, false));
        });
    }).then(function (answer) {
      if (answer && answer.redirect) window.location.assign(answer.redirect);
      return answer;
    }).catch(function (error) {
      if (mediation === "conditional" && controller !== pending) return REPLACED;  // aborted while fetching
      say(box, error.message, true);
      return null;
    }).finally(function () {
      if (pending === controller) pending = null;
    });
  }

  function abortPending() {
    if (pending) {
      var old = pending;
      pending = null;
      old.abort();
    }
  }

  function startAutofill(root) {
    if (root.hasAttribute("data-passkey-modal-only")) return;  // step-up: the button only
    if (!supported() || !PublicKeyCredential.isConditionalMediationAvailable) return;
    if (!document.querySelector('input[autocomplete~="webauthn"]') || pending || modal) return;
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available || pending || modal || !document.body.contains(root)) return;
      signIn(root, "conditional").then(function (answer) {
        if (answer !== null) return;
        // A refused or expired autofill attempt gets a fresh challenge after a pause, a few times at most.
        autofillFailures += 1;
        if (autofillFailures < AUTOFILL_RETRIES) window.setTimeout(function () { startAutofill(root); }, 3000);
      });
    }, function () {});
  }

  function initSignIn(root) {
    var button = root.querySelector("[data-passkey-login]");
    var box = root.querySelector("[data-passkey-status]");
    root.hidden = false;
    if (button) {
      button.addEventListener("click", function () {
        if (!supported()) { say(box, MSG.unsupported, true); return; }
        modal = true;
        abortPending();
        button.disabled = true;
        signIn(root, "").finally(function () {
          modal = false;
          button.disabled = false;
          startAutofill(root);
        });
      });
    }
    startAutofill(root);
  }

  // --- adding a passkey (settings) -----------------------------------------------------------------
  function initAdd(root) {
    var button = root.querySelector("[data-passkey-add]");
    var box = root.querySelector("[data-passkey-status]");
    var nameField = root.querySelector("[data-passkey-name]");
    root.hidden = false;
    if (!supported() || !navigator.credentials.create) {
      say(box, MSG.unsupportedAdd, true);
      if (button) button.disabled = true;
      return;
    }
    button.addEventListener("click", function () {
      abortPending();
      button.disabled = true;
      say(box, MSG.working, false);
      var controller = new AbortController();
      post(root.getAttribute("data-options-url")).then(function (data) {
        var options = creationOptions(data.publicKey);
        return guarded(function () {
          return navigator.credentials.create({ publicKey: options, signal: controller.signal });
        }, options.timeout || 120000, controller).catch(function (error) { throw new Error(ceremonyMessage(error, true)); });
      }).then(function (cred) {
        var name = nameField ? nameField.value : "";
        return post(withQuery(root.getAttribute("data-finish-url"), { name: name }), credentialJSON(cred));
      }).then(function (answer) {
        if (answer.redirect) window.location.assign(answer.redirect);
      }).catch(function (error) {
        say(box, error.message, true);
      }).finally(function () { button.disabled = false; });
    });
  }

  // --- wiring (first load and every htmx swap) -----------------------------------------------------
  // Elements already wired, by identity: htmx may put back an element's attributes after a swap (so a marker
  // attribute can vanish from a node that already has its listeners), and one button must get one listener.
  var wired = new WeakSet();
  function init() {
    document.querySelectorAll("[data-passkey-signin]").forEach(function (root) {
      if (wired.has(root)) { root.hidden = false; startAutofill(root); return; }  // e.g. the ID tab swapped in
      wired.add(root);
      initSignIn(root);
    });
    document.querySelectorAll("[data-passkey-register]").forEach(function (root) {
      if (wired.has(root)) { root.hidden = false; return; }
      wired.add(root);
      initAdd(root);
    });
  }

  window.kaiinPasskey = { toBuffer: toBuffer, toText: toText, credentialJSON: credentialJSON, init: init };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
  document.addEventListener("htmx:after:swap", function () { init(); });
})();
