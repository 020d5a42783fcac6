// The cluster's live stream: a websocket that delivers a snapshot, then every change.
//
// On a dropped connection it reconnects with exponential backoff (0.5 s doubling to 10 s, with jitter) and asks
// to resume after the last resourceVersion the page applied (`?resourceVersion=N`); the server answers with a
// `resume` and the missed events, or with a fresh `snapshot` when its history no longer reaches back. A message too
// long for one frame (the snapshot of a busy cluster) comes in `part` frames, put together here before it is read.

const MIN_DELAY = 500;
const MAX_DELAY = 10000;

/**
 * connect({url, resourceVersion: () => string|null, onMessage(msg), onStatus(state)}) → {close()}
 * `state` is "connecting" | "live" | "reconnecting" | "gone" (the cluster does not exist: close code 4404) |
 * "forbidden" (classroom mode: no login, 4401, or one that does not reach this cluster, 4403).
 */
export function connect({ url, resourceVersion, onMessage, onStatus }) {
  let socket = null;
  let delay = MIN_DELAY;
  let timer = null;
  let closed = false;

  function open() {
    const rv = resourceVersion();
    const absolute = new URL(url, window.location.href);
    absolute.protocol = absolute.protocol === "https:" ? "wss:" : "ws:";
    if (rv) absolute.searchParams.set("resourceVersion", rv);
    onStatus(rv ? "reconnecting" : "connecting");
    socket = new WebSocket(absolute);
    let parts = [];
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
        if (message.type === "part") {
          parts.push(message.text);
          if (!message.last) return;
          const whole = parts.join("");
          parts = [];
          message = JSON.parse(whole);
        }
      } catch {
        parts = [];
        return;
      }
      if (message.type === "snapshot" || message.type === "resume") {
        delay = MIN_DELAY;
        onStatus("live");
      }
      onMessage(message);
    };
    socket.onclose = (event) => {
      socket = null;
      if (closed) return;
      if (event.code === 4404) {
        onStatus("gone");
        return;
      }
      if (event.code === 4401 || event.code === 4403) {
        onStatus("forbidden");
        return;
      }
      onStatus("reconnecting");
      const wait = Math.min(MAX_DELAY, delay) * (0.75 + Math.random() * 0.5);
      delay = Math.min(MAX_DELAY, delay * 2);
      timer = setTimeout(open, wait);
    };
  }

  open();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}
