// Toasts: bottom right, stacked. Success auto-dismisses after 6 s (paused on hover/focus);
// errors use role="alert" and stay until closed.
const DISMISS_MS = 6000;
// A burst (ten syncs ending together) keeps the newest few, fewer on a phone, where they sit
// over the full-screen drawer; errors stay until closed.
const phone = window.matchMedia("(max-width: 640px)");
const maxShown = () => (phone.matches ? 2 : 4);

// An open modal dialog (the drawer, a confirmation) sits in the top layer, above any z-index,
// and makes the rest of the page inert: the toasts live in the topmost one, else in the body.
function home() {
  const modals = [...document.querySelectorAll("dialog[open]")].filter((d) => d.matches(":modal"));
  return modals.at(-1) || document.body;
}

function region() {
  let el = document.getElementById("toasts");
  if (!el) {
    el = document.createElement("div");
    el.id = "toasts";
    el.className = "toasts";
    el.setAttribute("aria-live", "polite");
  }
  const parent = home();
  if (el.parentElement !== parent) parent.append(el);
  return el;
}

// Call after opening or closing a modal dialog, so toasts on screen stay visible.
export function rehomeToasts() {
  if (document.getElementById("toasts")) region();
}

// A closing dialog would take its toasts with it.
document.addEventListener("close", (event) => {
  if (event.target instanceof HTMLDialogElement) rehomeToasts();
}, true);

export function toast(message, level = "success") {
  const item = document.createElement("div");
  item.className = `toast toast-${level}`;
  item.setAttribute("role", level === "error" ? "alert" : "status");
  const text = document.createElement("span");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  close.addEventListener("click", () => item.remove());
  item.append(text, close);
  const stack = region();
  stack.append(item);
  const passing = [...stack.querySelectorAll(".toast:not(.toast-error)")];
  passing.slice(0, Math.max(0, stack.children.length - maxShown())).forEach((old) => old.remove());
  if (level !== "error") {
    let timer = setTimeout(() => item.remove(), DISMISS_MS);
    const pause = () => clearTimeout(timer);
    const resume = () => { timer = setTimeout(() => item.remove(), DISMISS_MS); };
    item.addEventListener("mouseenter", pause);
    item.addEventListener("mouseleave", resume);
    item.addEventListener("focusin", pause);
    item.addEventListener("focusout", resume);
  }
  return item;
}

// Server-side messages (full-page flows) arrive as <template data-toast> in the page.
export function showPageMessages() {
  document.querySelectorAll("template[data-toast]").forEach((tpl) => {
    toast(tpl.content.textContent.trim(), tpl.dataset.level || "success");
    tpl.remove();
  });
}
