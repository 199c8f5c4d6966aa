// Relative times ("5 minutes ago") that refresh themselves each minute; the exact time stays
// in the element's datetime and title attributes.
const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const STEPS = [
  ["year", 365 * 24 * 3600], ["month", 30 * 24 * 3600], ["week", 7 * 24 * 3600],
  ["day", 24 * 3600], ["hour", 3600], ["minute", 60],
];

export function relative(date, now = new Date()) {
  const seconds = Math.round((date - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of STEPS) {
    if (Math.abs(seconds) >= size || unit === "minute") {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return "just now";
}

export function refreshTimes(root = document) {
  root.querySelectorAll("time[data-relative]").forEach((el) => {
    const date = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(date.valueOf())) {
      el.textContent = relative(date);
      el.title = date.toLocaleString();
    }
  });
}

export function startClock() {
  refreshTimes();
  setInterval(refreshTimes, 60_000);
}
