// Ctrl/Cmd+Enter submits the form the cursor is in (the prompt box, mostly).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  const form = event.target.closest && event.target.closest("form");
  if (form) {
    event.preventDefault();
    form.requestSubmit();
  }
});

// Relative times ("3 min ago") on every <time data-relative>; the exact time is its title.
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
function showRelativeTimes(root) {
  root.querySelectorAll("time[data-relative]").forEach((el) => {
    const seconds = (Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000;
    if (Number.isNaN(seconds)) return;
    const [unit, size] = units.find(([, s]) => Math.abs(seconds) >= s) || ["second", 1];
    el.textContent = Math.abs(seconds) < 10 ? "just now" : relative.format(Math.round(seconds / size), unit);
  });
}
document.addEventListener("DOMContentLoaded", () => showRelativeTimes(document));
document.addEventListener("htmx:afterSettle", () => showRelativeTimes(document));
setInterval(() => showRelativeTimes(document), 30000);

// Copy-prompt buttons: <button data-copy="text">.
document.addEventListener("click", async (event) => {
  const button = event.target.closest && event.target.closest("button[data-copy]");
  if (!button) return;
  const text = button.dataset.copy;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1500);
});

// "/" focuses the gallery's search box (as on GitHub and YouTube), unless the person is typing.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
  const box = document.getElementById("search-box");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// Forms and submit buttons with data-confirm ask first. Capture phase: a cancelled submit
// never reaches htmx's own listener on the form.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// Toasts: an Undo toast stays as long as Undo is offered (30 s), the others 8 s; ✕ closes.
function armToasts() {
  document.querySelectorAll(".toast:not([data-armed])").forEach((toast) => {
    toast.dataset.armed = "1";
    setTimeout(() => toast.remove(), toast.hasAttribute("data-undo") ? 30000 : 8000);
  });
}
document.addEventListener("DOMContentLoaded", armToasts);
document.addEventListener("htmx:afterSettle", armToasts);
document.addEventListener("click", (event) => {
  const close = event.target.closest && event.target.closest(".toast-close");
  if (close) close.closest(".toast").remove();
});

// Live views: cards and lists marked data-poll ask the server for news on an htmx timer
// (job card: every 1 s running, 2 s queued; queue list: 2 s while anything is live, 15 s
// otherwise; a finished card carries no timer, so it stops). A hidden tab skips its turns.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (document.hidden && event.detail.elt.hasAttribute("data-poll")) event.preventDefault();
});

// When a job this page watched finishes, the tab title says so, and, when the person asked
// for it with the notify button, a browser notification too.
const finishedMarks = { succeeded: "✓ Done", failed: "✗ Failed", canceled: "Canceled" };
const seenStatus = new Map();
const notifyKey = "studio-notify";

function notifyWanted() {
  return "Notification" in window && Notification.permission === "granted"
    && localStorage.getItem(notifyKey) === "on";
}

function announceFinished(card, status) {
  const text = `${finishedMarks[status]} — ${card.dataset.title || card.id}`;
  document.title = `${text} · Studio`;
  if (status !== "canceled" && notifyWanted()) {
    const link = card.querySelector("header a");
    const notice = new Notification(finishedMarks[status], { body: card.dataset.title || "", tag: card.id });
    notice.addEventListener("click", () => {
      window.focus();
      if (link) window.location.assign(link.href);
    });
  }
}

function watchJobs() {
  document.querySelectorAll(".job-card[data-job-status]").forEach((card) => {
    const before = seenStatus.get(card.id);
    const now = card.dataset.jobStatus;
    seenStatus.set(card.id, now);
    if ((before === "queued" || before === "running") && finishedMarks[now]) announceFinished(card, now);
  });
}
document.addEventListener("DOMContentLoaded", watchJobs);
document.addEventListener("htmx:afterSettle", watchJobs);

function showNotifyButton(button) {
  const on = notifyWanted();
  button.setAttribute("aria-pressed", on ? "true" : "false");
  if (Notification.permission === "denied") {
    button.textContent = "Notifications are blocked in this browser";
    button.disabled = true;
  } else {
    button.textContent = on ? "Notifications on" : "Notify me when jobs finish";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if (!("Notification" in window)) return;
  document.querySelectorAll("[data-notify]").forEach((button) => {
    button.hidden = false;
    showNotifyButton(button);
  });
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest && event.target.closest("[data-notify]");
  if (!button) return;
  if (notifyWanted()) {
    localStorage.setItem(notifyKey, "off");
  } else if ((await Notification.requestPermission()) === "granted") {
    localStorage.setItem(notifyKey, "on");
  }
  document.querySelectorAll("[data-notify]").forEach(showNotifyButton);
});

// The header's menu button (narrow screens): opens and closes the navigation; Esc closes it.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest && event.target.closest(".menu-toggle");
  if (!toggle) return;
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  toggle.closest(".topbar").classList.toggle("menu-open", open);
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const toggle = document.querySelector(".menu-toggle[aria-expanded=true]");
  if (!toggle) return;
  toggle.setAttribute("aria-expanded", "false");
  toggle.closest(".topbar").classList.remove("menu-open");
  toggle.focus();
});
