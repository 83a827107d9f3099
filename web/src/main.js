// velopipe dashboard entry point: wires the system selector, the map, the
// search, the station panel, "nearest station" and the live stream.
import './style.css';
import { getConfig, getSystems, getStations, eventsUrl } from './api.js';
import { StationMap } from './map.js';
import { Panel } from './panel.js';
import { Live } from './live.js';
import { distanceM, fold, located } from './util.js';

const $ = (id) => document.getElementById(id);
const MAX_RESULTS = 50;

const state = {
  system: null,
  stations: new Map(), // station_id -> station JSON
  point: null, // {lat, lon} for "nearest"
  load: null, // AbortController of the current station load
};

function meta(name) {
  const m = document.querySelector(`meta[name="${name}"]`);
  return m && m.content ? m.content : null;
}

async function start() {
  const cfg = await getConfig();
  const tileUrl = cfg.tile_url || meta('velo-tile-url');
  const map = new StationMap($('map'), {
    tileUrl,
    tileAttribution: cfg.tile_attribution || meta('velo-tile-attribution'),
    onSelect: (id) => selectStation(id, false),
    onPoint: (lat, lon) => setPoint(lat, lon, 'clicked point'),
  });
  const panel = new Panel(() => $('search').focus());
  const live = new Live($('live'), (st) => onLive(st), () => resync());
  Object.assign(state, { map, panel, live });
  window.veloDashboard = { map: map.map, state }; // for tests and debugging

  wireSearch();
  wireNearest();
  $('system').addEventListener('change', (e) => loadSystem(e.target.value));
  const systems = await getSystems();
  fillSystems(systems);
  const wanted = new URLSearchParams(location.hash.slice(1)).get('system');
  const pick = systems.find((s) => s.system_id === wanted) || systems[0];
  if (pick) {
    $('system').value = pick.system_id;
    await loadSystem(pick.system_id);
  } else {
    $('system-info').textContent = 'No systems yet.';
  }
}

function fillSystems(systems) {
  const sel = $('system');
  sel.replaceChildren();
  for (const s of systems) {
    const o = document.createElement('option');
    o.value = s.system_id;
    o.textContent = s.name ? `${s.name} (${s.system_id})` : s.system_id;
    sel.append(o);
  }
}

async function loadSystem(system) {
  if (state.load) state.load.abort();
  state.load = new AbortController();
  state.system = system;
  history.replaceState(null, '', `#system=${encodeURIComponent(system)}`);
  state.panel.hide();
  $('system-info').textContent = 'loading…';
  let list;
  try {
    list = await getStations(system, state.load.signal);
  } catch (e) {
    if (e.name !== 'AbortError') $('system-info').textContent = `Could not load stations: ${e.message}`;
    return;
  }
  state.stations = new Map(list.map((s) => [s.station_id, s]));
  // First render: markers built and the canvas painted (two frames later).
  const t0 = performance.now();
  state.map.setStations(list);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
  $('system-info').textContent = `${state.stations.size} stations`;
  refreshSimBanner();
  runSearch();
  state.live.open(eventsUrl(system));
}

// After the stream was down: reload every station in place (no refit).
async function resync() {
  const system = state.system;
  try {
    const list = await getStations(system, state.load.signal);
    if (system === state.system) for (const st of list) onLive(st);
  } catch {
    /* the next reconnect tries again */
  }
}

function refreshSimBanner() {
  let sim = false;
  for (const s of state.stations.values()) if (s.simulated) { sim = true; break; }
  $('sim-banner').hidden = !sim;
}

function onLive(st) {
  if (st.system_id && st.system_id !== state.system) return;
  const old = state.stations.get(st.station_id);
  const merged = old ? { ...old, ...st } : st;
  state.stations.set(st.station_id, merged);
  state.map.update(merged);
  state.panel.update(merged);
  if (merged.simulated) $('sim-banner').hidden = false;
}

function selectStation(id, fromKeyboard) {
  const st = state.stations.get(id);
  if (!st) return;
  state.map.select(st, fromKeyboard);
  state.panel.show(st, fromKeyboard);
}

function wireSearch() {
  const input = $('search');
  input.addEventListener('input', runSearch);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      const first = $('results').querySelector('button');
      if (first) first.click();
    }
  });
}

function runSearch() {
  const q = fold($('search').value.trim());
  const ul = $('results');
  ul.replaceChildren();
  if (!q) {
    $('results-count').textContent = '';
    return;
  }
  let n = 0;
  for (const st of state.stations.values()) {
    if (!fold(st.name).includes(q) && !fold(st.station_id).includes(q)) continue;
    n++;
    if (n <= MAX_RESULTS) ul.append(resultItem(st));
  }
  $('results-count').textContent = n > MAX_RESULTS
    ? `${n} stations match; showing ${MAX_RESULTS}.` : `${n} stations match.`;
}

function resultItem(st) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = `${st.name || st.station_id}: ${st.bikes_available ?? '—'} bikes, ${st.docks_available ?? '—'} docks`;
  b.addEventListener('click', () => selectStation(st.station_id, true));
  li.append(b);
  return li;
}

function setPoint(lat, lon, what) {
  state.point = { lat, lon };
  state.map.setPoint(lat, lon);
  $('ref-point').textContent = `From the ${what} (${lat.toFixed(5)}, ${lon.toFixed(5)}).`;
  $('nearest-bike').disabled = false;
  $('nearest-dock').disabled = false;
}

function wireNearest() {
  $('locate').addEventListener('click', () => {
    if (!navigator.geolocation) {
      $('nearest-out').textContent = 'This browser has no geolocation.';
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => setPoint(p.coords.latitude, p.coords.longitude, 'your location'),
      (e) => { $('nearest-out').textContent = `Location unavailable: ${e.message}`; },
      { timeout: 10000 });
  });
  $('nearest-bike').addEventListener('click', () => nearest((s) => s.bikes_available > 0, 'a bike'));
  $('nearest-dock').addEventListener('click', () => nearest((s) => s.docks_available > 0, 'a free dock'));
}

// The closest open station that satisfies want; stale stations count too
// but are named as such.
function nearest(want, what) {
  const p = state.point;
  let best = null;
  let bestD = Infinity;
  for (const st of state.stations.values()) {
    if (!located(st) || st.status === 'CLOSED' || !want(st)) continue;
    const d = distanceM(p.lat, p.lon, st.lat, st.lon);
    if (d < bestD) { best = st; bestD = d; }
  }
  if (!best) {
    $('nearest-out').textContent = `No station with ${what}.`;
    return;
  }
  const dist = bestD < 1000 ? `${Math.round(bestD)} m` : `${(bestD / 1000).toFixed(1)} km`;
  $('nearest-out').textContent = `${best.name || best.station_id}, ${dist} away` +
    (best.stale ? ' (stale data)' : '') + '.';
  $('nearest-out').dataset.stationId = best.station_id;
  selectStation(best.station_id, true);
}


start().catch((e) => {
  $('system-info').textContent = `Dashboard failed to start: ${e.message}`;
});
