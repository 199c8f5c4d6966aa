// Admin > Team: the Invite and Remove dialogs (native modal <dialog>: Esc closes, focus stays
// inside and returns to the button that opened it), toasts and relative times.
import { refreshTimes, startClock } from "../integrations/times.js";
import { rehomeToasts, showPageMessages } from "../integrations/toasts.js";

function open(dialog, opener) {
  dialog.addEventListener(
    "close",
    () => {
      if (opener && document.contains(opener)) opener.focus();
    },
    { once: true },
  );
  dialog.showModal();
  rehomeToasts();
}

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (dialog) open(dialog, opener);
    return;
  }
  if (event.target.closest("[data-close-dialog]")) {
    event.target.closest("dialog")?.close();
    return;
  }
  // A click on the dimmed backdrop closes it: the event targets the dialog itself, outside its box.
  const dialog = event.target;
  if (dialog instanceof HTMLDialogElement && dialog.open) {
    const box = dialog.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right &&
      event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) dialog.close();
  }
});

// The Invite form came back with reasons beside its fields: show it again, focus on the first.
const invalid = document.querySelector("dialog[data-open-on-load]");
if (invalid) {
  open(invalid, document.querySelector(`[data-open-dialog="${invalid.id}"]`));
  invalid.querySelector("[aria-invalid=true]")?.focus();
}

showPageMessages();
refreshTimes(document);
startClock();
