// brise: progressive enhancement of the configuration form. Every page works
// without this script (tabs are anchors, every button posts the form); it adds
// one-panel-at-a-time tabs, a refresh of the form when a choice changes
// (conditions), and the live apply log. The mode selector keeps its button: a
// selection alone never reloads the page (keyboard users browse options).
"use strict";

document.documentElement.classList.add("js");

// Configuration form: show one family (tab) at a time.
function setUpTabs(form) {
  const panels = Array.from(form.querySelectorAll(".panel[data-tab]"));
  const links = Array.from(form.querySelectorAll(".tabs a[data-tab]"));
  const input = document.getElementById("active-tab");
  if (panels.length === 0) return;
  function show(name) {
    let found = false;
    for (const panel of panels) {
      const active = panel.dataset.tab === name;
      panel.hidden = !active;
      found = found || active;
    }
    if (!found) {
      panels[0].hidden = false;
      name = panels[0].dataset.tab;
    }
    for (const link of links) {
      if (link.dataset.tab === name) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
    if (input) input.value = name;
  }
  // The panel holding an element (a summary link's target, the URL's anchor).
  function panelOf(id) {
    const target = id ? document.getElementById(id) : null;
    const panel = target ? target.closest(".panel[data-tab]") : null;
    return panel ? panel.dataset.tab : null;
  }
  for (const link of links) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      show(link.dataset.tab);
      const heading = document.getElementById(link.getAttribute("href").slice(1) + "-title");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    });
  }
  for (const link of form.querySelectorAll(".summary a[href^='#']")) {
    link.addEventListener("click", (event) => {
      const id = link.getAttribute("href").slice(1);
      const tab = panelOf(id);
      if (!tab) return;
      event.preventDefault();
      show(tab);
      const target = document.getElementById(id);
      target.scrollIntoView({ block: "center" });
      target.focus();
    });
  }
  const fromHash = panelOf(decodeURIComponent(window.location.hash.slice(1)));
  const panelsBox = form.querySelector(".panels");
  const firstError = form.querySelector(".panel [aria-invalid='true']");
  show(fromHash || (firstError && panelOf(firstError.id)) || (panelsBox && panelsBox.dataset.active) || "");
}

// Post the form as "refresh" and replace the form's content with the answer,
// keeping the focus: conditions are evaluated by the server, not here.
async function refreshForm(form, focusId) {
  const data = new URLSearchParams(new FormData(form));
  data.set("action", "refresh");
  let response;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Brise-Partial": "1" },
    });
  } catch (_) {
    return;
  }
  if (!response.ok && response.status !== 422) return;
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = doc.getElementById("config-form");
  if (!fresh) return;
  form.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
  setUpForm(form);
  const focus = focusId && document.getElementById(focusId);
  if (focus) focus.focus();
}

function setUpForm(form) {
  setUpTabs(form);
  for (const select of form.querySelectorAll(".panel select[name]")) {
    select.addEventListener("change", () => refreshForm(form, select.id));
  }
}

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
  const form = document.getElementById("config-form");
  if (form) setUpForm(form);
  followApply();
});
