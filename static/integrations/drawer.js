// The Manage drawer is a modal <dialog>: Esc and × close it, focus stays inside while open
// and returns to the card's button afterwards.
import { rehomeToasts } from "./toasts.js";

let opener = null;

export function drawer() {
  return document.getElementById("drawer");
}

export function openDrawer(trigger) {
  const dialog = drawer();
  if (trigger) opener = trigger;
  if (!dialog.open) dialog.showModal();
  rehomeToasts();
  const close = dialog.querySelector("[data-close-drawer]");
  if (close) close.focus();
}

export function closeDrawer() {
  const dialog = drawer();
  if (dialog && dialog.open) dialog.close();
}

export function currentProvider() {
  const dialog = drawer();
  return dialog && dialog.open ? dialog.dataset.provider : null;
}

export function setupDrawer() {
  const dialog = drawer();
  if (!dialog) return;
  dialog.addEventListener("close", () => {
    // The content stays until the next Manage swaps it: a request still in flight from a
    // form inside (e.g. Disconnect) must find its element to deliver its result.
    dialog.dataset.provider = "";
    // The card may have been redrawn meanwhile: find its button again by provider.
    const key = opener && opener.dataset.manage;
    const target = (key && document.querySelector(`[data-manage="${key}"]`)) || opener;
    if (target && document.contains(target)) target.focus();
  });
  // A click on the dimmed backdrop (the dialog element itself) closes the drawer.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) closeDrawer();
  });
  document.addEventListener("click", (event) => {
    const el = event.target.closest("[data-close-drawer],[data-open-dialog],[data-close-dialog]");
    if (!el) return;
    if (el.matches("[data-close-drawer]")) closeDrawer();
    if (el.matches("[data-open-dialog]")) {
      document.getElementById(el.dataset.openDialog)?.showModal();
      rehomeToasts();
    }
    if (el.matches("[data-close-dialog]")) el.closest("dialog")?.close();
  });
}
