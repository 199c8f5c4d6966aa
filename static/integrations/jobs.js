// Live job progress: progress bars in the drawer, the card's badge, the finishing toast.
// Fed by socket events; while the socket is down, active jobs are polled instead.
import { toast } from "./toasts.js";

const POLL_MS = 3000;
const announced = new Set();
const shown = new Set();
let polling = null;

function active(status) {
  return status === "queued" || status === "running";
}

function updateBars(job) {
  document.querySelectorAll(`[data-job-progress="${job.id}"]`).forEach((box) => {
    box.hidden = false;
    const bar = box.querySelector(".progress-bar");
    const fill = bar.querySelector("span");
    if (job.percent === null || job.percent === undefined) {
      bar.classList.add("indeterminate");
      bar.removeAttribute("aria-valuenow");
    } else {
      bar.classList.remove("indeterminate");
      fill.style.width = `${job.percent}%`;
      bar.setAttribute("aria-valuenow", String(job.percent));
    }
    const message = box.querySelector("[data-job-message]");
    if (message) message.textContent = job.message || (job.status === "queued" ? "Waiting for a worker…" : "Working…");
  });
  document.querySelectorAll(`[data-job="${job.id}"] [data-job-percent]`).forEach((el) => {
    if (job.percent !== null && job.percent !== undefined) el.textContent = `${job.percent}%`;
  });
}

export function handleJob(job, { refreshCard, reloadDrawer }) {
  if (active(job.status)) {
    updateBars(job);
    // A job this page has not drawn yet (just started here or elsewhere: another tab, a
    // command, the schedule): fetch the card's badge and the drawer's bar once.
    if (!shown.has(job.id)) {
      shown.add(job.id);
      if (!document.querySelector(`#card-${job.provider} [data-job="${job.id}"]`)) {
        refreshCard(job.provider);
      }
      if (!document.querySelector(`[data-job-progress="${job.id}"]`)) reloadDrawer(job.provider);
    }
    return;
  }
  if (announced.has(job.id)) return;
  announced.add(job.id);
  if (job.status === "succeeded") toast(job.summary || "Sync finished", "success");
  else if (job.status === "failed") toast(`Sync failed: ${job.error}`, "error");
  else if (job.status === "cancelled") toast(job.summary || "Sync cancelled", "info");
  refreshCard(job.provider);
  reloadDrawer(job.provider);
}

function visibleActiveJobs() {
  const ids = new Set();
  document.querySelectorAll("[data-job-progress]:not([hidden]), [data-job]").forEach((el) => {
    const id = el.dataset.jobProgress || el.dataset.job;
    if (id) ids.add(id);
  });
  return [...ids];
}

export function startPolling(handlers) {
  if (polling) return;
  polling = setInterval(async () => {
    for (const id of visibleActiveJobs()) {
      try {
        const response = await fetch(`/integrations/jobs/${id}/`, { headers: { Accept: "application/json" } });
        if (response.ok) handleJob(await response.json(), handlers);
      } catch {
        // Offline too: try again at the next tick.
      }
    }
  }, POLL_MS);
}

export function stopPolling() {
  clearInterval(polling);
  polling = null;
}
