// The gateway's HTTP API (DESIGN §8; assumptions in web/README.md).
const BASE = '/api/v1';
const PAGE = 1000;

async function getJSON(url, signal) {
  const r = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try {
      const body = await r.json();
      if (body && body.error && body.error.message) msg = body.error.message;
    } catch { /* not JSON: keep the status line */ }
    throw new Error(`${url}: ${msg}`);
  }
  return r.json();
}

export async function getConfig() {
  try {
    return await getJSON(`${BASE}/config`);
  } catch {
    return {}; // optional endpoint: no config means no tiles
  }
}

export async function getSystems() {
  const body = await getJSON(`${BASE}/systems`);
  return body.systems || [];
}

// Every station of a system, following next_cursor page by page.
export async function getStations(system, signal) {
  const out = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ system, limit: String(PAGE) });
    if (cursor) q.set('cursor', cursor);
    const body = await getJSON(`${BASE}/stations?${q}`, signal);
    out.push(...(body.stations || []));
    cursor = body.next_cursor || null;
  } while (cursor);
  return out;
}

export function getStation(system, station, signal) {
  const p = `${encodeURIComponent(system)}/${encodeURIComponent(station)}`;
  return getJSON(`${BASE}/stations/${p}`, signal);
}

export async function getHistory(system, station, fromMs, toMs, granularity, signal) {
  const p = `${encodeURIComponent(system)}/${encodeURIComponent(station)}`;
  const q = new URLSearchParams({
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    granularity,
  });
  const body = await getJSON(`${BASE}/stations/${p}/history?${q}`, signal);
  return body.rows || [];
}

export function eventsUrl(system) {
  return `${BASE}/events?${new URLSearchParams({ system })}`;
}
