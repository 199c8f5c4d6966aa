// The live channel: job progress and connection changes pushed by the server. Reconnects with
// backoff; `onUp` runs on every (re)connect, `onDown` on every close.
const MAX_DELAY_MS = 30_000;

export function connectLive({ onMessage, onUp = () => {}, onDown = () => {} }) {
  let delay = 1000;
  let socket = null;
  const scheme = location.protocol === "https:" ? "wss" : "ws";

  function open() {
    socket = new WebSocket(`${scheme}://${location.host}/ws/integrations/`);
    socket.addEventListener("open", () => {
      delay = 1000;
      onUp();
    });
    socket.addEventListener("message", (event) => {
      try {
        onMessage(JSON.parse(event.data));
      } catch (error) {
        console.warn("Ignoring an unreadable live update", error);
      }
    });
    socket.addEventListener("close", () => {
      onDown();
      setTimeout(open, delay + Math.random() * 500);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    });
  }
  open();
  return () => socket && socket.close();
}
