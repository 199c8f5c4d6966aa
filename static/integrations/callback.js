// The page the provider redirects the popup to: tell the opener (our own origin only), close.
const node = document.getElementById("oauth-result");
const result = node ? JSON.parse(node.textContent) : null;
if (result && window.opener && !window.opener.closed) {
  window.opener.postMessage(result, location.origin);
  window.close();
}
document.querySelectorAll("[data-close-popup]").forEach((link) => {
  link.addEventListener("click", (event) => {
    if (window.opener && !window.opener.closed) {
      event.preventDefault();
      window.close();
    }
  });
});
