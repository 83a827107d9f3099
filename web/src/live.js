// Live updates over Server-Sent Events. EventSource reconnects by itself
// (sending Last-Event-ID); when the browser gives up (readyState CLOSED)
// we open a new one after a capped, jittered backoff. The state is shown
// as "live" or "reconnecting".
export class Live {
  // onResync runs when a stream opens again after an error: events sent
  // while it was down may be lost, so the caller reloads the state.
  constructor(statusEl, onStation, onResync) {
    this.statusEl = statusEl;
    this.onStation = onStation;
    this.onResync = onResync;
    this.broken = false;
    this.es = null;
    this.url = null;
    this.retryMs = 1000;
    this.timer = null;
  }

  open(url) {
    this.close();
    this.url = url;
    this.broken = false;
    this.connect();
  }

  connect() {
    this.setState('connecting');
    const es = new EventSource(this.url);
    this.es = es;
    es.onopen = () => {
      this.retryMs = 1000;
      this.setState('live');
      if (this.broken) {
        this.broken = false;
        this.onResync();
      }
    };
    es.onerror = () => {
      if (this.es !== es) return;
      this.broken = true;
      this.setState('reconnecting');
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        const wait = this.retryMs * (0.5 + Math.random() / 2);
        this.retryMs = Math.min(this.retryMs * 2, 30000);
        this.timer = setTimeout(() => this.connect(), wait);
      }
    };
    es.addEventListener('station', (e) => {
      let st;
      try {
        st = JSON.parse(e.data);
      } catch {
        return; // one bad event must not stop the stream
      }
      if (st && st.station_id != null) this.onStation(st);
    });
  }

  close() {
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    this.es = null;
  }

  setState(state) {
    this.statusEl.textContent = state;
    this.statusEl.className = `live ${state === 'live' ? 'on' : 'off'}`;
    this.statusEl.dataset.state = state;
  }
}
