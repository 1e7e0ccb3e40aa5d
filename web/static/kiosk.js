// The counter kiosk (web/kiosk.py). Without this script the page is a plain form.
//
// Each rating gets its submission id here (crypto.randomUUID), is put in a queue kept in
// localStorage, and is posted to the ratings endpoint until the server acknowledges it
// (2xx). A retry carries the same id and the core stores it once, so a rating made while
// the network or the server is down is delivered when it is back, exactly once.
(function () {
  "use strict";
  var main = document.querySelector("[data-kiosk-ratings]");
  var form = document.getElementById("kiosk-form");
  if (!main || !form || !window.localStorage || !window.fetch) return;

  var endpoint = main.getAttribute("data-kiosk-ratings");
  var key = main.getAttribute("data-kiosk-queue");
  var thanks = document.getElementById("kiosk-thanks");
  var pending = document.getElementById("kiosk-pending");
  var stopped = document.getElementById("kiosk-stopped");
  var body = document.body;
  var THANKS_MS = 5000; // the thank-you screen, then a blank form
  var IDLE_MS = 45000; // a face tapped and then left: the rating is sent as it is
  var RETRY_MIN_MS = 2000;
  var RETRY_MAX_MS = 15000;
  var retryMs = RETRY_MIN_MS;
  var retryTimer = null;
  var idleTimer = null;
  var thanksTimer = null;
  var sending = false;
  var holding = false; // the server asked to wait (Retry-After): no sending meanwhile
  var tappedAt = null; // when the face was tapped: the rating's time

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // Outside a secure context (plain http on a LAN): a version 4 UUID by hand.
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  // The tap time in ISO 8601 with the tablet's offset (2026-11-22T10:15:00+07:00): the
  // server files the rating on that day even when the queue is delivered later.
  function localIso(d) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + "T" +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) +
      sign + two(Math.floor(off / 60)) + ":" + two(off % 60);
  }

  function load() {
    try {
      var items = JSON.parse(localStorage.getItem(key) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function save(items) {
    localStorage.setItem(key, JSON.stringify(items));
    showPending(items.length);
  }

  function remove(id) {
    save(load().filter(function (item) { return item.submission_id !== id; }));
  }

  function showPending(n) {
    pending.hidden = n === 0;
    pending.textContent = pending.getAttribute("data-label") + " " + n;
  }

  // waitMs: what the server asked for (Retry-After), else the growing back-off.
  function scheduleRetry(waitMs) {
    if (retryTimer) return;
    holding = Boolean(waitMs);
    retryTimer = setTimeout(function () {
      retryTimer = null;
      holding = false;
      flush();
    }, waitMs || retryMs);
    if (!waitMs) retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }

  function retryAfterMs(response) {
    var seconds = parseInt(response.headers.get("Retry-After") || "", 10);
    return seconds > 0 ? Math.min(seconds, 300) * 1000 : 0;
  }

  // Send the queue in order, one at a time; stop at the first failure and try again later.
  function flush() {
    if (sending || holding) return;
    var items = load();
    if (items.length === 0) return;
    sending = true;
    var item = items[0];
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(item),
      credentials: "omit",
      cache: "no-store",
    }).then(function (response) {
      sending = false;
      if (response.ok) {
        remove(item.submission_id);
        retryMs = RETRY_MIN_MS;
        flush();
      } else if (response.status === 404 || response.status === 410) {
        stopped.hidden = false; // kept in the queue: staff can look at the tablet
      } else if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        remove(item.submission_id); // refused as it is: sending it again cannot help
        flush();
      } else {
        scheduleRetry(retryAfterMs(response)); // 429 (too fast) and 5xx: kept, sent later
      }
    }, function () {
      sending = false; // the network or the server is down: the rating waits
      scheduleRetry();
    });
  }

  function chosen(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : "";
  }

  function reset() {
    form.reset();
    form.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = false; });
    body.classList.remove("rated");
    clearTimeout(idleTimer);
    tappedAt = null;
  }

  function hideThanks() {
    clearTimeout(thanksTimer);
    body.classList.remove("thanking");
    thanks.hidden = true;
  }

  function record() {
    var rating = chosen("rating");
    if (!rating) return false;
    var components = {};
    form.querySelectorAll("fieldset.kiosk-scale input:checked").forEach(function (input) {
      components[input.name.replace(/^component_/, "")] = Number(input.value);
    });
    var items = load();
    items.push({ submission_id: newId(), rating: Number(rating), components: components,
                 rated_at: localIso(tappedAt || new Date()) });
    save(items);
    reset();
    body.classList.add("thanking");
    thanks.hidden = false;
    thanksTimer = setTimeout(hideThanks, THANKS_MS);
    flush();
    return true;
  }

  body.classList.add("scripted");
  form.addEventListener("change", function (event) {
    if (event.target.name === "rating") {
      body.classList.add("rated");
      tappedAt = new Date();
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(record, IDLE_MS);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!record()) form.querySelector("input[name=rating]").focus();
  });
  thanks.addEventListener("click", hideThanks);
  thanks.addEventListener("touchstart", hideThanks, { passive: true });
  window.addEventListener("online", function () { retryMs = RETRY_MIN_MS; flush(); });
  setInterval(flush, RETRY_MAX_MS); // a last resort if a timer was lost
  showPending(load().length);
  flush();
})();
