/* The live round on the contest page: the server pushes where the schedule is (Server-Sent Events); the student
   answers the open question once; an answer not acknowledged is sent again while its question is open. */
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box) { return; }
  var BASE = "/thi/api/live/";
  var words = document.getElementById("live-words").dataset;
  var chosen = JSON.parse(box.getAttribute("data-chosen") || "{}");
  var state = { phase: document.getElementById("live-q").getAttribute("data-phase"),
    index: parseInt(document.getElementById("live-q").getAttribute("data-seq"), 10) };
  var deadline = Date.now() + parseInt(box.getAttribute("data-ms"), 10);
  var pending = null;
  var $ = function (id) { return document.getElementById(id); };

  function post(path, body) {
    return fetch(BASE + path, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (d) { d.httpStatus = r.status; return d; }); });
  }

  function options(question) {
    var opts = $("live-opts");
    opts.textContent = "";
    (question ? question.options : []).forEach(function (text, pos) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "opt"; b.textContent = text;
      b.setAttribute("data-pos", String(pos));
      b.setAttribute("aria-pressed", String(chosen[state.index] === pos));
      b.disabled = state.phase !== "question" || chosen[state.index] !== undefined;
      b.addEventListener("click", function () { choose(pos); });
      opts.appendChild(b);
    });
  }

  function show(s) {
    var moved = s.index !== state.index || s.phase !== state.phase;
    state = s;
    deadline = Date.now() + s.remaining_ms;
    $("live-title").textContent = s.title;
    if (s.phase === "ended") { location.reload(); return; }
    if (!moved) { return; }
    $("live-label").textContent = s.question ? s.question.label : "";
    $("live-stem").textContent = s.question ? s.question.stem : words.wait;
    $("live-state").textContent = chosen[s.index] !== undefined ? words.saved : (s.phase === "pause" ? words.wait : "");
    if (pending && pending.seq !== s.index) { pending = null; }
    options(s.question);
  }

  function send() {
    if (!pending) { return; }
    var item = pending;
    post("answer", item).then(function (d) {
      if (pending !== item) { return; }
      if (d.httpStatus === 200) {
        chosen[item.seq] = item.pos; pending = null;
        $("live-state").textContent = words.saved;
      } else if (d.httpStatus >= 400 && d.httpStatus < 500 && d.httpStatus !== 429) {
        pending = null; $("live-state").textContent = d.message || d.error || "";
      } else { later(item); }
    }, function () { later(item); });
  }
  function later(item) {
    $("live-state").textContent = words.unsent;
    setTimeout(function () { if (pending === item && state.index === item.seq && state.phase === "question") { send(); } }, 1000);
  }

  function choose(pos) {
    if (state.phase !== "question" || chosen[state.index] !== undefined || pending) { return; }
    pending = { seq: state.index, pos: pos };
    Array.prototype.forEach.call($("live-opts").children, function (b) {
      b.disabled = true; b.setAttribute("aria-pressed", String(b.getAttribute("data-pos") === String(pos)));
    });
    $("live-state").textContent = words.sending;
    send();
  }

  Array.prototype.forEach.call($("live-opts").children, function (b) {
    b.addEventListener("click", function () { choose(parseInt(b.getAttribute("data-pos"), 10)); });
  });

  setInterval(function () {
    $("live-seconds").textContent = String(Math.max(0, Math.ceil((deadline - Date.now()) / 1000)));
  }, 250);

  var form = $("live-prediction");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var value = parseInt($("live-guess").value, 10);
    if (isNaN(value) || value < 0) { return; }
    post("predict", { prediction: value }).then(function (d) {
      $("live-state").textContent = d.message || ""; if (d.httpStatus === 200) { form.hidden = true; }
    });
  });

  if (window.EventSource) {
    var source = new EventSource(BASE + "su-kien");
    source.onmessage = function (event) { show(JSON.parse(event.data)); };
  }
})();
