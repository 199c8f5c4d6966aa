// Live job progress: progress bars in the drawer, the card's badge, the finishing toast.
// Fed by socket events. A job the page shows is also polled: every few seconds while the
// socket is down, and whenever it has been silent for a while with the socket up (an event
// can be lost on a socket that is closing, and nothing would ever send it again).
import { toast } from "./toasts.js";

const POLL_MS = 3000;
// A job silent this long with the socket up is asked about: a lost event, or a long page.
const QUIET_MS = 10_000;
const announced = new Set();
const shown = new Set();
// When each job shown was last heard of, by event or poll; never heard of means poll now.
const heard = new Map();
const asking = new Set();
let live = false;
// The highest percent seen per job. Events from two workers, a poll and a redrawn drawer can
// arrive out of order; a bar never moves backwards.
const highest = new Map();

function active(status) {
  return status === "queued" || status === "running";
}

function known(percent) {
  return percent !== null && percent !== undefined;
}

function showPercent(bar, percent) {
  bar.classList.remove("indeterminate");
  bar.querySelector("span").style.width = `${percent}%`;
  bar.setAttribute("aria-valuenow", String(percent));
}

function updateBars(job) {
  const percent = known(job.percent) ? Math.max(job.percent, highest.get(job.id) ?? 0) : null;
  if (percent !== null) highest.set(job.id, percent);
  document.querySelectorAll(`[data-job-progress="${job.id}"]`).forEach((box) => {
    box.hidden = false;
    const bar = box.querySelector(".progress-bar");
    if (percent === null) {
      bar.classList.add("indeterminate");
      bar.removeAttribute("aria-valuenow");
    } else {
      showPercent(bar, percent);
    }
    const message = box.querySelector("[data-job-message]");
    if (message) message.textContent = job.message || (job.status === "queued" ? "Waiting for a worker…" : "Working…");
  });
  document.querySelectorAll(`[data-job="${job.id}"] [data-job-percent]`).forEach((el) => {
    if (percent !== null) el.textContent = `${percent}%`;
  });
}

// A freshly rendered drawer or card carries the percent the server had: older than an event
// already shown, or newer (events are throttled). Every bar and badge of a job shows the
// highest seen.
export function restoreBars(root) {
  const bars = [...root.querySelectorAll("[data-job-progress]")]
    .map((box) => [box.dataset.jobProgress, box.querySelector(".progress-bar")])
    .filter(([, bar]) => bar && bar.hasAttribute("aria-valuenow"));
  const badges = [...root.querySelectorAll("[data-job] [data-job-percent]")].map((el) => [
    el.closest("[data-job]").dataset.job,
    el,
  ]);
  const learn = (id, value) => {
    if (!Number.isNaN(value) && value > (highest.get(id) ?? -1)) highest.set(id, value);
  };
  bars.forEach(([id, bar]) => learn(id, Number(bar.getAttribute("aria-valuenow"))));
  badges.forEach(([id, el]) => learn(id, parseInt(el.textContent, 10)));
  bars.forEach(([id, bar]) => {
    if (Number(bar.getAttribute("aria-valuenow")) < highest.get(id)) showPercent(bar, highest.get(id));
  });
  badges.forEach(([id, el]) => {
    if (parseInt(el.textContent, 10) < highest.get(id)) el.textContent = `${highest.get(id)}%`;
  });
}

// htmx requests in flight. The worker's first event can beat the response of the request
// that started the job (which swaps in its bar): let them land before deciding what is missing.
const inFlight = new Set();
let afterLanding = [];

function landed(xhr) {
  inFlight.delete(xhr);
  if (inFlight.size) return;
  const callbacks = afterLanding;
  afterLanding = [];
  callbacks.forEach((callback) => callback());
}

document.body.addEventListener("htmx:beforeSend", (event) => {
  const xhr = event.detail.xhr;
  inFlight.add(xhr);
  // loadend follows load (where htmx swaps), whatever the outcome: error, abort, timeout.
  xhr.addEventListener("loadend", () => landed(xhr));
  // A listener after this one may still call the request off: then it never ends.
  queueMicrotask(() => {
    if (event.defaultPrevented) landed(xhr);
  });
});

function afterPendingSwaps(then) {
  if (inFlight.size) afterLanding.push(then);
  else then();
}

export function handleJob(job, { refreshCard, reloadDrawer }) {
  heard.set(job.id, Date.now());
  if (active(job.status)) {
    updateBars(job);
    // A job this page has not drawn yet (just started here or elsewhere: another tab, a
    // command, the schedule): fetch the card's badge and the drawer's bar once. Redrawing
    // the drawer for nothing would clear what staff typed (a Sync Range's dates).
    if (!shown.has(job.id)) {
      shown.add(job.id);
      afterPendingSwaps(() => {
        if (!document.querySelector(`#card-${job.provider} [data-job="${job.id}"]`)) {
          refreshCard(job.provider);
        }
        if (!document.querySelector(`[data-job-progress="${job.id}"]`)) reloadDrawer(job.provider);
      });
    }
    return;
  }
  if (announced.has(job.id)) return;
  announced.add(job.id);
  if (job.status === "succeeded") toast(job.summary || "Sync finished", "success");
  else if (job.status === "failed") toast(`Sync failed: ${job.error}`, "error");
  else if (job.status === "cancelled") toast(job.summary || "Sync cancelled", "info");
  // After the request that started it has landed: its response still shows the job running
  // and must not be the last word.
  afterPendingSwaps(() => {
    refreshCard(job.provider);
    reloadDrawer(job.provider);
  });
}

// The jobs the page shows as queued or running: drawer bars and card badges.
function shownJobs() {
  const ids = new Set();
  document.querySelectorAll("[data-job-progress]:not([hidden]), [data-job]").forEach((el) => {
    const id = el.dataset.jobProgress || el.dataset.job;
    if (id && !announced.has(id)) ids.add(id);
  });
  return [...ids];
}

async function poll(id, handlers) {
  if (asking.has(id)) return;
  asking.add(id);
  try {
    const response = await fetch(`/integrations/jobs/${id}/`, {
      headers: { Accept: "application/json" },
    });
    if (response.ok) handleJob(await response.json(), handlers);
  } catch {
    // Offline too: the next tick asks again.
  } finally {
    asking.delete(id);
  }
}

// Ask the server about every job shown now: after a socket (re)connect, events sent while it
// was away are gone for good.
export function pollShownJobs(handlers) {
  return Promise.all(shownJobs().map((id) => poll(id, handlers)));
}

export function setLive(up) {
  live = up;
}

export function watchJobs(handlers) {
  setInterval(() => {
    const now = Date.now();
    const patience = live ? QUIET_MS : POLL_MS;
    for (const id of shownJobs()) {
      if (now - (heard.get(id) ?? 0) >= patience) poll(id, handlers);
    }
  }, 1000);
}
