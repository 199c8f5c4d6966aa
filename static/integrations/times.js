// Relative times ("5 minutes ago") that refresh themselves each minute; the exact time stays
// in the element's datetime and title attributes. Dates (time[data-date]) are shown in the
// viewer's own time zone: the server only knows UTC, and 5 PM in Los Angeles is already
// tomorrow there.
const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
// "26 Nov 2026", as the server writes dates (en-GB would say "Sept").
const month = new Intl.DateTimeFormat("en-US", { month: "short" });
const day = (date) => `${date.getDate()} ${month.format(date)} ${date.getFullYear()}`;
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

function each(root, selector, show) {
  root.querySelectorAll(selector).forEach((el) => {
    const date = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(date.valueOf())) {
      el.textContent = show(date);
      el.title = date.toLocaleString();
    }
  });
}

export function refreshTimes(root = document) {
  each(root, "time[data-relative]", (date) => relative(date));
  each(root, "time[data-date]", day);
}

export function startClock() {
  refreshTimes();
  setInterval(refreshTimes, 60_000);
}
