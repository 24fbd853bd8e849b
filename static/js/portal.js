// What every page does in the browser: focus on the error summary after a
// failed submit, what was typed kept across a session that ends, and the
// warning before the idle timeout.
(function () {
  "use strict";

  // A page that comes back with errors puts the focus on their summary, so a
  // keyboard or screen-reader user hears what went wrong first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }

  // --- What was typed, kept in sessionStorage (this tab only), keyed by the form's URL.
  // Passwords, files and hidden fields (the CSRF token among them) are never kept.
  var PREFIX = "portal:draft:";
  var INFLIGHT = "portal:inflight";
  var storage;
  try {
    storage = window.sessionStorage;
  } catch (e) {
    storage = null;
  }

  function keyOf(form) {
    return PREFIX + (form.getAttribute("action") ? new URL(form.action, location.href).pathname : location.pathname);
  }

  function keptFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.disabled) return false;
      var type = (el.type || "").toLowerCase();
      return ["password", "file", "hidden", "submit", "button", "reset", "image"].indexOf(type) === -1;
    });
  }

  function read(form) {
    var values = {};
    keptFields(form).forEach(function (el) {
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        if (el.checked) (values[el.name] = values[el.name] || []).push(el.value);
      } else if (el.multiple) {
        values[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
      } else if (el.value !== "") {
        values[el.name] = [el.value];
      }
    });
    return values;
  }

  function write(form, values) {
    keptFields(form).forEach(function (el) {
      var kept = values[el.name];
      if (!kept) return;
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        el.checked = kept.indexOf(el.value) !== -1;
      } else if (el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = kept.indexOf(o.value) !== -1; });
      } else {
        el.value = kept[0];
      }
    });
  }

  function load(key) {
    try {
      return JSON.parse(storage.getItem(key));
    } catch (e) {
      return null;
    }
  }

  function keepAllForLater() {
    // The session is ending: every kept draft may be offered again after the next sign-in.
    for (var i = 0; i < storage.length; i++) {
      var key = storage.key(i);
      if (key.indexOf(PREFIX) === 0) {
        var draft = load(key);
        if (draft) {
          draft.resumable = true;
          storage.setItem(key, JSON.stringify(draft));
        }
      }
    }
  }

  if (storage) {
    var forms = Array.prototype.filter.call(document.querySelectorAll("form[method=post], form[method=POST]"), function (form) {
      return !form.hasAttribute("data-no-draft") && keptFields(form).length > 0;
    });
    var keepPage = document.body.hasAttribute("data-keep-drafts");
    var inflight = load(INFLIGHT);
    storage.removeItem(INFLIGHT);
    if (inflight && keepPage) {
      // The form was sent but refused (session ended, or the CSRF check failed).
      storage.setItem(inflight.key, JSON.stringify({ values: inflight.values, resumable: true }));
    }
    if (keepPage) keepAllForLater();

    var onThisPage = {};
    forms.forEach(function (form) {
      var key = keyOf(form);
      onThisPage[key] = true;
      var draft = load(key);
      if (draft && draft.resumable && !summary) {
        write(form, draft.values);
        storage.removeItem(key);
        var notice = document.createElement("div");
        notice.className = "usa-alert usa-alert--info usa-alert--slim margin-bottom-2";
        notice.setAttribute("role", "status");
        notice.setAttribute("data-restored-draft", "");
        notice.innerHTML = '<div class="usa-alert__body"><p class="usa-alert__text">What you typed before you were signed out is back in this form. Check it, then send it.</p></div>';
        form.insertBefore(notice, form.firstChild);
      }
      form.addEventListener("input", function () {
        storage.setItem(key, JSON.stringify({ values: read(form) }));
      });
      form.addEventListener("change", function () {
        storage.setItem(key, JSON.stringify({ values: read(form) }));
      });
      form.addEventListener("submit", function () {
        storage.removeItem(key);
        storage.setItem(INFLIGHT, JSON.stringify({ key: key, values: read(form) }));
      });
    });

    if (!keepPage) {
      // Drafts of other pages that were never sent, and not cut off by a session end, go.
      var stale = [];
      for (var i = 0; i < storage.length; i++) {
        var key = storage.key(i);
        if (key.indexOf(PREFIX) === 0 && !onThisPage[key]) {
          var draft = load(key);
          if (!draft || !draft.resumable) stale.push(key);
        }
      }
      stale.forEach(function (key) { storage.removeItem(key); });
    }
  }

  // --- The warning before the idle timeout.
  var dialog = document.getElementById("session-timeout");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var WARN_SECONDS = 120;
  var idleSeconds = parseInt(dialog.getAttribute("data-idle-seconds"), 10);
  var countdown = dialog.querySelector("[data-countdown]");
  var deadline = 0;
  var ticker = null;
  var warnTimer = null;

  function signInAgain() {
    if (storage) keepAllForLater();
    location.href = dialog.getAttribute("data-login-url") + "?next=" + encodeURIComponent(location.pathname + location.search);
  }

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    countdown.textContent = minutes > 0
      ? minutes + " minute" + (minutes === 1 ? "" : "s") + (seconds ? " " + seconds + " seconds" : "")
      : seconds + " seconds";
    if (left === 0) {
      clearInterval(ticker);
      // Load the page again: the server ends the session and asks for a new sign-in.
      if (storage) keepAllForLater();
      location.reload();
    }
  }

  function schedule(secondsLeft) {
    deadline = Date.now() + secondsLeft * 1000;
    clearTimeout(warnTimer);
    warnTimer = setTimeout(function () {
      tick();
      ticker = setInterval(tick, 1000);
      dialog.showModal();
      dialog.querySelector("[data-stay-signed-in]").focus();
    }, Math.max(0, secondsLeft - WARN_SECONDS) * 1000);
  }

  dialog.querySelector("[data-stay-signed-in]").addEventListener("click", function () {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(dialog.getAttribute("data-stay-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" }
    }).then(function (response) {
      if (!response.ok) throw new Error("signed out");
      return response.json();
    }).then(function (body) {
      clearInterval(ticker);
      dialog.close();
      schedule(body.seconds_left - 60);
    }).catch(signInAgain);
  });
  dialog.querySelector("[data-sign-out-now]").addEventListener("click", function () {
    var form = document.querySelector("form[action$='/logout/']");
    if (storage) keepAllForLater();
    if (form) form.submit(); else signInAgain();
  });
  dialog.addEventListener("cancel", function (event) {
    // Escape must not silently dismiss the warning; it means "stay signed in".
    event.preventDefault();
    dialog.querySelector("[data-stay-signed-in]").click();
  });
  schedule(idleSeconds);
})();
