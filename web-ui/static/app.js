// brise: progressive enhancement of the configuration form. Every page works
// without this script; it only adds live updates and conveniences.
"use strict";

document.documentElement.classList.add("js");

// Apply page: follow the running apply through server-sent events.
function followApply() {
  const run = document.getElementById("run");
  if (!run || run.dataset.state !== "running" || !window.EventSource) {
    return;
  }
  const plan = document.getElementById("apply-plan");
  const log = document.getElementById("apply-log");
  const status = document.getElementById("apply-status");
  const button = document.getElementById("apply-button");
  const source = new EventSource(run.dataset.stream);
  function append(pre, text) {
    if (!pre) return;
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
    pre.appendChild(document.createTextNode(text + "\n"));
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
  source.addEventListener("plan", (e) => append(plan, e.data));
  source.addEventListener("log", (e) => append(log, e.data));
  source.addEventListener("status", (e) => {
    source.close();
    let data;
    try {
      data = JSON.parse(e.data);
    } catch (_) {
      return;
    }
    run.dataset.state = data.state;
    status.textContent = data.text;
    status.className = "status status-" + data.state;
    if (button) button.disabled = false;
    for (const el of run.querySelectorAll(".js-only")) el.remove();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  followApply();
});
