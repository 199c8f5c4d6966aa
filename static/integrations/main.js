// Admin > Integrations: wires the popup, drawer, toasts, live updates and relative times.
import { closeDrawer, currentProvider, drawer, openDrawer, setupDrawer } from "./drawer.js";
import { handleJob, pollShownJobs, restoreBars, setLive, watchJobs } from "./jobs.js";
import { connectLive } from "./live.js";
import { onConsentResult, openConsent } from "./popup.js";
import { refreshTimes, startClock } from "./times.js";
import { showPageMessages, toast } from "./toasts.js";

// Each call names its own source: htmx queues requests per source element and keeps only the
// last one waiting, so a card refresh sourced from <body> would drop a drawer reload.
function refreshCard(provider) {
  const card = document.getElementById(`card-${provider}`);
  if (!card) return Promise.resolve();
  return window.htmx.ajax("GET", `/integrations/${provider}/card/`, {
    source: card,
    target: card,
    swap: "outerHTML",
  });
}

function reloadDrawer(provider) {
  if (currentProvider() !== provider) return;
  window.htmx.ajax("GET", `/integrations/${provider}/manage/`, {
    source: "#drawer-body",
    target: "#drawer-body",
    swap: "innerHTML",
  });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-connect]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return;
  event.preventDefault();
  openConsent(link);
});

onConsentResult((result) => {
  toast(result.message, result.level);
  refreshCard(result.provider);
  reloadDrawer(result.provider);
});

document.body.addEventListener("sous:toast", (event) => {
  toast(event.detail.message, event.detail.level || "success");
});

document.body.addEventListener("htmx:afterSwap", (event) => {
  refreshTimes(event.detail.target);
  restoreBars(document);
  if (event.detail.target.id === "drawer-body") {
    const trigger = event.detail.requestConfig?.elt;
    const manage = trigger?.closest?.("[data-manage]");
    // A background redraw that lands after staff closed the drawer leaves it closed.
    if (!manage && !drawer().open) return;
    const provider = manage?.dataset.manage || currentProvider();
    drawer().dataset.provider = provider || "";
    openDrawer(manage);
  }
});

document.body.addEventListener("htmx:afterRequest", (event) => {
  // A successful disconnect swaps the card back to Not connected: close the dialogs.
  const form = event.detail.elt;
  if (event.detail.successful && form.matches?.("form[hx-post*='/disconnect/']")) {
    form.closest("dialog")?.close();
    closeDrawer();
  }
});

document.body.addEventListener("htmx:responseError", (event) => {
  // A response that carries its own toast (HX-Trigger) already explained itself.
  if ((event.detail.xhr.getResponseHeader("HX-Trigger") || "").includes("sous:toast")) return;
  const status = event.detail.xhr.status;
  const message =
    status === 403
      ? "Only owners and admins can do that."
      : status === 404
        ? "That integration is no longer connected."
        : `Something went wrong (HTTP ${status}). Please try again.`;
  toast(message, "error");
});

document.body.addEventListener("htmx:sendError", (event) => {
  // Only what staff asked for: a background redraw is done again after the next reconnect.
  if (!event.detail.requestConfig?.triggeringEvent) return;
  toast("We could not reach Sous. Check your connection and try again.", "error");
});

const jobHandlers = { refreshCard, reloadDrawer };

// A card is redrawn only if what it shows has changed: redrawing it under a click (staff
// reaching for Connect as the socket comes up) would lose the click.
async function refreshCardIfChanged(card) {
  try {
    const response = await fetch(`/integrations/${card.dataset.provider}/card/`);
    if (!response.ok) return;
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = html.querySelector(".card[data-version]");
    if (fresh && fresh.dataset.version !== card.dataset.version) refreshCard(card.dataset.provider);
  } catch {
    // Offline again: the next reconnect catches up.
  }
}

// After every socket (re)connect: what happened while it was away was published to nobody.
// Jobs first (one that ended gets its toast and redraws its card and drawer), then the cards
// (a connection that changed, a job started elsewhere).
async function catchUp() {
  document.dispatchEvent(new CustomEvent("sous:notification"));
  await pollShownJobs(jobHandlers);
  document
    .querySelectorAll(".card[data-provider]:not([data-state='coming_soon'])")
    .forEach(refreshCardIfChanged);
}

// A socket that stays down (Redis or the server unreachable) is said so, after a grace period
// that covers an ordinary reconnect.
const LIVE_GRACE_MS = 5000;
let liveNotice = null;

// A body class, so that a drawer drawn meanwhile shows it too.
function liveUp() {
  clearTimeout(liveNotice);
  liveNotice = null;
  document.body.classList.remove("live-down");
}

function liveDown() {
  if (liveNotice) return;
  liveNotice = setTimeout(() => document.body.classList.add("live-down"), LIVE_GRACE_MS);
}

connectLive({
  onMessage(message) {
    if (message.type === "connection") {
      refreshCard(message.provider);
      if (message.state === "not_connected") {
        if (currentProvider() === message.provider) closeDrawer();
      } else {
        reloadDrawer(message.provider);
      }
    } else if (message.type === "job") {
      handleJob(message, jobHandlers);
    } else if (message.type === "notification") {
      document.dispatchEvent(new CustomEvent("sous:notification", { detail: message }));
    }
  },
  onUp() {
    setLive(true);
    liveUp();
    catchUp();
  },
  onDown() {
    setLive(false);
    liveDown();
  },
});
watchJobs(jobHandlers);

document.body.addEventListener("sous:settings-saved", (event) => {
  reloadDrawer(event.detail.provider);
});

setupDrawer();
showPageMessages();
startClock();

// A link from a notification or an email: /admin/integrations/?open=square opens that drawer.
// (htmx.ajax rather than a click: htmx wires the buttons only once the document has loaded.)
const opened = new URLSearchParams(location.search).get("open");
const manage = opened && document.querySelector(`[data-manage="${CSS.escape(opened)}"]`);
if (opened) history.replaceState(null, "", location.pathname);
if (manage) {
  window.htmx.ajax("GET", manage.getAttribute("hx-get"), {
    source: manage,
    target: "#drawer-body",
    swap: "innerHTML",
  });
}
