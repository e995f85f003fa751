// The re-analysis page: poll the job's JSON every second until it is done or failed (textContent only).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  function set(id, text) { var e = document.getElementById(id); if (e) { e.textContent = text; } }
  function tick() {
    fetch(box.getAttribute("data-src"), {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (j) {
      box.setAttribute("data-state", j.state);
      set("job-state", j.state);
      set("job-stage", j.stage);
      set("job-progress", j.total ? j.done + " / " + j.total : "");
      set("job-seconds", String(j.seconds));
      var bar = document.getElementById("job-bar");
      if (bar) { bar.max = j.total || 1; bar.value = j.state === "done" ? bar.max : j.done; }
      if (j.error) { var e = document.getElementById("job-error"); e.hidden = false; e.textContent = j.error; }
      if (j.state !== "done" && j.state !== "failed") { window.setTimeout(tick, 1000); }
    }).catch(function (err) {
      box.setAttribute("data-error", String(err));
      window.setTimeout(tick, 3000);
    });
  }
  if (box.getAttribute("data-state") !== "done" && box.getAttribute("data-state") !== "failed") { tick(); }
})();
