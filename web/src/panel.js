// The station panel: current values, badges for stale and simulated data,
// the data's age (ticking), and the history charts.
import { AVAILABILITY_LABEL, availability, ageSeconds, count, formatAge } from './util.js';
import { Charts } from './charts.js';
import { getHistory } from './api.js';

const RANGES = {
  '24h': { ms: 24 * 3600 * 1000, granularity: 'hour', label: 'Last 24 h' },
  '7d': { ms: 7 * 24 * 3600 * 1000, granularity: 'hour', label: 'Last 7 days' },
};

const $ = (id) => document.getElementById(id);

export class Panel {
  constructor(onClose) {
    this.el = $('panel');
    this.station = null;
    this.range = '24h';
    this.charts = new Charts($('chart-bikes'), $('chart-flows'), $('chart-summary'));
    this.abort = null;
    $('panel-close').addEventListener('click', () => { this.hide(); onClose(); });
    for (const key of Object.keys(RANGES)) {
      $(`range-${key}`).addEventListener('click', () => this.setRange(key));
    }
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { this.hide(); onClose(); }
    });
    setInterval(() => this.tick(), 5000);
  }

  show(st, focus) {
    const same = this.station && this.station.station_id === st.station_id &&
      this.station.system_id === st.system_id;
    this.station = st;
    this.el.hidden = false;
    this.render();
    if (!same) this.loadHistory();
    if (focus) this.el.focus();
  }

  hide() {
    this.el.hidden = true;
    this.station = null;
    if (this.abort) this.abort.abort();
    this.charts.clear();
  }

  // A live update: redraw the values if it is the open station.
  update(st) {
    if (this.station && this.station.station_id === st.station_id) {
      this.station = st;
      this.render();
    }
  }

  render() {
    const st = this.station;
    $('panel-name').textContent = st.name || st.station_id;
    this.el.dataset.stationId = st.station_id;
    $('v-bikes').textContent = count(st.bikes_available);
    $('v-mech').textContent = count(st.mechanical_bikes);
    $('v-elec').textContent = count(st.electric_bikes);
    $('v-docks').textContent = count(st.docks_available);
    $('v-cap').textContent = count(st.capacity);
    $('v-status').textContent = `${st.status || 'UNKNOWN'}: ${AVAILABILITY_LABEL[availability(st)]}`;
    const badges = $('panel-badges');
    badges.replaceChildren();
    if (st.stale) badges.append(badge('Stale data', 'stale'));
    if (st.simulated) badges.append(badge('Simulated', 'sim'));
    if (st.trend_15m != null) {
      const t = st.trend_15m;
      badges.append(badge(`${t > 0 ? '+' : ''}${t} bikes in 15 min`, 'trend'));
    }
    this.tick();
  }

  tick() {
    if (!this.station) return;
    $('v-age').textContent = formatAge(ageSeconds(this.station, Date.now()));
  }

  setRange(key) {
    this.range = key;
    for (const k of Object.keys(RANGES)) {
      $(`range-${k}`).setAttribute('aria-pressed', String(k === key));
    }
    this.loadHistory();
  }

  async loadHistory() {
    const st = this.station;
    const r = RANGES[this.range];
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    const now = Date.now();
    try {
      const rows = await getHistory(st.system_id, st.station_id, now - r.ms, now,
        r.granularity, this.abort.signal);
      if (this.station === st || this.station?.station_id === st.station_id) {
        this.charts.draw(rows, r.label);
      }
    } catch (e) {
      if (e.name !== 'AbortError') {
        this.charts.clear();
        $('chart-summary').textContent = `History unavailable (${e.message}).`;
      }
    }
  }
}

function badge(text, cls) {
  const b = document.createElement('span');
  b.className = `badge ${cls}`;
  b.textContent = text;
  return b;
}
