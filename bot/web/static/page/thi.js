/* The contest page: answers sent as they are chosen (each with its own key), kept on the phone until the server
   says it stored them, and sent again when the network comes back; the countdown follows the server's time. */
(function () {
  "use strict";
  var BASE = "/thi";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var all = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var notice = $("#notice");
  function say(text) { if (notice) { notice.textContent = text || ""; } }

  function post(path, body) {
    return fetch(BASE + "/api/" + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { data.httpStatus = r.status; return data; });
    });
  }

  // --- entry: a one-time link (the button is pressed at once) or a Telegram Mini App ---------------------------
  var entry = $("#entry");
  if (entry) { entry.submit(); return; }
  var tg = $("#telegram");
  if (tg) {
    var hash = new URLSearchParams(location.hash.slice(1));
    var initData = hash.get("tgWebAppData") || "";
    var search = new URLSearchParams(location.search);
    if (!initData) { say(tg.getAttribute("data-missing")); return; }
    post("telegram", { init_data: initData, round: search.get("tgWebAppStartParam") || tg.getAttribute("data-round") || "" })
      .then(function (d) {
        if (d.httpStatus === 200) { location.replace(BASE + "/"); } else { say(d.error || tg.getAttribute("data-missing")); }
      }, function () { say(tg.getAttribute("data-missing")); });
    return;
  }

  // --- registration and start ------------------------------------------------------------------------------------
  all("[data-act]").forEach(function (button) {
    button.addEventListener("click", function () {
      var act = button.getAttribute("data-act");
      button.disabled = true;
      post(act, { official: button.getAttribute("data-official") === "1" }).then(function (d) {
        if (d.httpStatus === 200) { location.replace(BASE + "/"); return; }
        button.disabled = false;
        say(d.error);
      }, function () { button.disabled = false; say(document.body.getAttribute("data-offline")); });
    });
  });

  // --- the attempt -------------------------------------------------------------------------------------------------
  var box = $("#attempt");
  if (!box) { return; }
  var words = $("#words").dataset;
  var attempt = parseInt(box.getAttribute("data-attempt"), 10);
  var sections = all("section.q");
  var store = "thi-" + attempt;
  var queue = [];
  try { queue = JSON.parse(localStorage.getItem(store) || "[]"); } catch (e) { queue = []; }
  function keep() { try { localStorage.setItem(store, JSON.stringify(queue)); } catch (e) { /* private mode */ } }

  function result() { location.replace(BASE + "/?ket-qua=" + attempt); }
  var current = 0;
  function show(i) {
    current = Math.max(0, Math.min(sections.length - 1, i));
    sections.forEach(function (s, k) { s.hidden = k !== current; });
    all("#nav .n").forEach(function (b, k) {
      if (k === current) { b.setAttribute("aria-current", "step"); } else { b.removeAttribute("aria-current"); }
    });
    $("#prev").disabled = current === 0;
    $("#next").disabled = current === sections.length - 1;
    missing();
  }
  function unanswered() {
    return sections.filter(function (s) { return s.id !== "qp" && !s.hasAttribute("data-chosen"); }).length;
  }
  function missing() {
    var n = unanswered();
    $("#missing").textContent = n ? words.missing.replace("{n}", n) : "";
  }
  function mark(seq, pos, state) {
    var s = $("#q" + seq);
    if (!s) { return; }
    s.setAttribute("data-chosen", pos);
    all(".opt", s).forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-pos") === String(pos))); });
    $(".state", s).textContent = words[state];
    var nav = all("#nav .n")[sections.indexOf(s)];
    nav.className = "n " + (state === "saved" ? "done" : "wait");
    missing();
  }
  function sync() {
    $("#sync").textContent = queue.length ? words.waiting.replace("{n}", queue.length) : "";
  }

  var sending = false;
  var retry = null;
  function flush() {
    if (sending || !queue.length) { sync(); return; }
    sending = true;
    var item = queue[0];
    post("answer", item).then(function (d) {
      sending = false;
      if (d.httpStatus === 200) {
        queue.shift(); keep();
        mark(item.seq, d.chosen === null || d.chosen === undefined ? item.pos : d.chosen, "saved");
        flush();
      } else if (d.httpStatus === 409 || d.httpStatus === 400 || d.httpStatus === 403) {
        queue.shift(); keep();
        say(d.message || d.error);
        if (d.status === "late" || d.status === "closed") { setTimeout(result, 1500); }
        flush();
      } else { later(); }
    }, function () { sending = false; later(); });
  }
  function later() {
    queue.forEach(function (q) { mark(q.seq, q.pos, "unsent"); });
    sync();
    clearTimeout(retry);
    retry = setTimeout(flush, 4000);
  }
  window.addEventListener("online", flush);

  function key() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function nextOpen(from) {
    for (var k = 1; k <= sections.length; k++) {
      var s = sections[(from + k) % sections.length];
      if (s.id === "qp" || !s.hasAttribute("data-chosen")) { return sections.indexOf(s); }
    }
    return sections.length - 1;
  }

  sections.forEach(function (s) {
    all(".opt", s).forEach(function (b) {
      b.addEventListener("click", function () {
        if (s.hasAttribute("data-chosen")) { return; } // the first answer stands
        var seq = parseInt(s.getAttribute("data-seq"), 10);
        var pos = parseInt(b.getAttribute("data-pos"), 10);
        queue.push({ key: key(), attempt: attempt, seq: seq, pos: pos });
        keep();
        mark(seq, pos, queue.length > 1 ? "unsent" : "sending");
        flush();
        setTimeout(function () { show(nextOpen(sections.indexOf(s))); }, 250);
      });
    });
  });
  queue.forEach(function (item) { mark(item.seq, item.pos, "unsent"); });
  all("#nav .n").forEach(function (b, k) { b.addEventListener("click", function () { show(k); }); });
  $("#prev").addEventListener("click", function () { show(current - 1); });
  $("#next").addEventListener("click", function () { show(current + 1); });
  show(unanswered() ? nextOpen(-1) : sections.length - 1);
  flush();

  // The server's remaining time, counted down from when the page got it.
  var until = Date.now() + parseInt(box.getAttribute("data-ms"), 10);
  function tick() {
    var left = Math.max(0, Math.round((until - Date.now()) / 1000));
    $("#timer").textContent = left ? words.left.replace("{m}", Math.floor(left / 60)).replace("{s}", left % 60) : words.over;
    if (!left) { setTimeout(result, 3000); return; } // the server hands the attempt in at its deadline
    setTimeout(tick, 1000);
  }
  tick();

  $("#prediction").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (queue.length) { flush(); say(words.waiting.replace("{n}", queue.length)); return; }
    var button = $("#prediction button");
    button.disabled = true;
    post("submit", { attempt: attempt, prediction: $("#guess").value }).then(function (d) {
      button.disabled = false;
      if (d.httpStatus === 200) {
        try { localStorage.removeItem(store); } catch (e) { /* private mode */ }
        result();
      } else { say(d.error || d.message); }
    }, function () { button.disabled = false; say(words.offline); });
  });
})();
