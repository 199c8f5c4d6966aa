// Toasts: bottom right, stacked. Success auto-dismisses after 6 s (paused on hover/focus);
// errors use role="alert" and stay until closed.
const DISMISS_MS = 6000;

function region() {
  let el = document.getElementById("toasts");
  if (!el) {
    el = document.createElement("div");
    el.id = "toasts";
    el.className = "toasts";
    document.body.append(el);
  }
  return el;
}

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
  region().append(item);
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
