// The header's bell: redrawn when a notification arrives (a page with the live socket dispatches
// `sous:notification` on the document) and after "Mark all read", without leaving the page.
const bell = () => document.getElementById("bell");

async function refreshBell() {
  const current = bell();
  if (!current) return;
  const url = `${current.dataset.bellUrl}?open=${current.open ? "1" : "0"}`;
  try {
    const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (response.ok) replace(await response.text());
  } catch {
    // Offline for a moment: the next notification or reconnect redraws it.
  }
}

function replace(html) {
  const current = bell();
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  const fresh = template.content.firstElementChild;
  if (current && fresh) current.replaceWith(fresh);
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-bell-read]");
  if (!form) return;
  event.preventDefault();
  const data = new FormData(form);
  data.set("fragment", "1");
  try {
    const response = await fetch(form.action, { method: "POST", body: data, credentials: "same-origin" });
    if (response.ok) {
      replace(await response.text());
      bell()?.querySelector("summary")?.focus();
      return;
    }
  } catch {
    // fall through to an ordinary submit
  }
  form.submit();
});

// Escape closes the open panel and gives focus back to the bell.
document.addEventListener("keydown", (event) => {
  const current = bell();
  if (event.key === "Escape" && current?.open) {
    current.open = false;
    current.querySelector("summary")?.focus();
  }
});

document.addEventListener("sous:notification", refreshBell);
