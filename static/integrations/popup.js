// Connect in a 500x650 popup; when the browser blocks it, run the same flow as a full page.
// The callback page posts its result to us (same origin only) and closes itself.
const WIDTH = 500;
const HEIGHT = 650;

export function openConsent(link) {
  const url = new URL(link.href, location.href);
  url.searchParams.set("mode", "popup");
  const left = window.screenX + Math.max(0, (window.outerWidth - WIDTH) / 2);
  const top = window.screenY + Math.max(0, (window.outerHeight - HEIGHT) / 2);
  const features = `popup=yes,width=${WIDTH},height=${HEIGHT},left=${left},top=${top}`;
  const popup = window.open(url.toString(), `sous-connect-${link.dataset.connect}`, features);
  if (!popup) {
    url.searchParams.set("mode", "page");
    location.assign(url.toString());
    return null;
  }
  popup.focus();
  return popup;
}

export function onConsentResult(handler) {
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin) return;
    const data = event.data;
    if (!data || data.type !== "sous:integration") return;
    handler(data);
  });
}
