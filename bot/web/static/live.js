// The big screen of a live round: the server pushes its state (Server-Sent Events); the countdown ticks here.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var seconds = document.getElementById("live-seconds");
  var deadline = Date.now() + Number(seconds.getAttribute("data-remaining-ms"));

  function text(tag, value, scope) {
    var node = document.createElement(tag);
    if (scope) { node.setAttribute("scope", scope); }
    node.textContent = value;
    return node;
  }

  function rows(id, items, withSchool) {
    var body = document.querySelector("#" + id + " tbody");
    body.textContent = "";
    items.forEach(function (s) {
      var tr = document.createElement("tr");
      tr.appendChild(text("th", s.name, "row"));
      if (withSchool) { tr.appendChild(text("td", s.school)); }
      tr.appendChild(text("td", s.rate + "%"));
      tr.appendChild(text("td", s.joined + "/" + s.members));
      body.appendChild(tr);
    });
  }

  function show(state) {
    document.getElementById("live-title").textContent = state.title;
    deadline = Date.now() + state.remaining_ms;
    var box = document.getElementById("live-question");
    box.textContent = "";
    if (state.question) {
      box.appendChild(text("h2", state.question.label + ": " + state.question.stem));
      var list = document.createElement("ol");
      list.className = "options";
      state.question.options.forEach(function (o) { list.appendChild(text("li", o)); });
      box.appendChild(list);
    }
    rows("live-classes", state.classes, true);
    rows("live-schools", state.schools, false);
  }

  function tick() {
    seconds.textContent = String(Math.max(0, Math.ceil((deadline - Date.now()) / 1000)));
  }

  setInterval(tick, 250);
  if (window.EventSource) {
    var source = new EventSource(main.getAttribute("data-events"));
    source.onmessage = function (event) {
      var state = JSON.parse(event.data);
      show(state);
      if (state.phase === "ended") { source.close(); }
    };
  }
})();
