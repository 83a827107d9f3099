// A test-only stand-in for velo-gateway: serves the built dashboard and
// the parts of /api/v1 it uses, with generated data. Listens on 127.0.0.1
// port 0. Every response carries a strict Content-Security-Policy, so a
// test sees any inline script or style the dashboard would need.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
  "frame-ancestors 'none'";

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

// n stations on a grid around Paris; a few stale, closed, without the
// e-bike split or with an awkward name, so every panel state shows up.
export function makeStations(system, n, { simulated = false } = {}) {
  const now = Date.now();
  const side = Math.ceil(Math.sqrt(n));
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = `s${String(i).padStart(4, '0')}`;
    const cap = 10 + (i % 31);
    const bikes = (i * 7) % (cap + 1);
    const st = {
      system_id: system,
      station_id: id,
      name: i === 7 ? 'Gare "Part-Dieu" <b>é</b> \uFFFD' : `Station ${i} Rue ${['Lafayette', 'Oberkampf', 'Rivoli'][i % 3]}`,
      lat: 48.80 + 0.12 * Math.floor(i / side) / side,
      lon: 2.25 + 0.20 * (i % side) / side,
      capacity: cap,
      bikes_available: bikes,
      docks_available: cap - bikes,
      status: i % 97 === 5 ? 'CLOSED' : 'OPEN',
      last_reported: new Date(now - ((i % 50) * 10000)).toISOString(),
      age_s: (i % 50) * 10,
      stale: i % 113 === 3,
      trend_15m: (i % 5) - 2,
    };
    if (i % 4 !== 0) {
      st.electric_bikes = Math.floor(bikes / 3);
      st.mechanical_bikes = bikes - st.electric_bikes;
    }
    if (simulated) st.simulated = true;
    out.push(st);
  }
  return out;
}

function history(fromMs, toMs) {
  const rows = [];
  const start = Math.ceil(fromMs / 3600000) * 3600000;
  for (let t = start, i = 0; t < toMs; t += 3600000, i++) {
    const avg = 8 + 6 * Math.sin(i / 4);
    rows.push({
      window_start: new Date(t).toISOString(),
      bikes_avg: Math.round(avg * 10) / 10,
      bikes_min: Math.max(0, Math.floor(avg - 2)),
      bikes_max: Math.ceil(avg + 2),
      bikes_in: (i * 3) % 7,
      bikes_out: (i * 5) % 6,
      samples: 60,
    });
  }
  return rows;
}

// A 1x1 grey PNG: the tile server of the "tiles configured" test.
const TILE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGO4AwAA0gDRAKtd5wAAAABJRU5ErkJggg==', 'base64');

export async function startFakeApi(assetsDir, systems) {
  let config = {}; // no tile_url: the dashboard must work offline
  const clients = new Set(); // SSE responses
  let eventId = 0;
  const requests = [];

  function json(res, code, body) {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Security-Policy': CSP });
    res.end(JSON.stringify(body));
  }

  async function serveFile(res, rel) {
    const file = path.resolve(assetsDir, rel);
    if (!file.startsWith(path.resolve(assetsDir) + path.sep)) return json(res, 404, {});
    try {
      const body = await readFile(file);
      const hashed = rel.startsWith('assets/');
      res.writeHead(200, {
        'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
        'Content-Security-Policy': CSP,
        'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
      res.end(body);
    } catch {
      json(res, 404, { error: { code: 'not_found', message: rel } });
    }
  }

  function events(req, res, system) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache',
      'Content-Security-Policy': CSP,
    });
    res.write('retry: 300\n: hello\n\n');
    const c = { res, system };
    clients.add(c);
    req.on('close', () => clients.delete(c));
  }

  function api(req, res, url) {
    const p = url.pathname;
    if (p === '/api/v1/config') return json(res, 200, config);
    if (p === '/api/v1/systems') {
      return json(res, 200, { systems: Object.entries(systems).map(([id, s]) => ({
        system_id: id, name: s.name, station_count: s.stations.length, timezone: 'Europe/Paris',
      })) });
    }
    if (p === '/api/v1/stations') {
      const s = systems[url.searchParams.get('system')];
      if (!s) return json(res, 404, { error: { code: 'not_found', message: 'no such system' } });
      const limit = Number(url.searchParams.get('limit') || 100);
      const from = Number(url.searchParams.get('cursor') || 0);
      const page = s.stations.slice(from, from + limit);
      const next = from + limit < s.stations.length ? String(from + limit) : null;
      return json(res, 200, { stations: page, next_cursor: next });
    }
    if (p === '/api/v1/events') return events(req, res, url.searchParams.get('system'));
    const m = p.match(/^\/api\/v1\/stations\/([^/]+)\/([^/]+)(\/history)?$/);
    if (m) {
      const s = systems[decodeURIComponent(m[1])];
      const st = s && s.stations.find((x) => x.station_id === decodeURIComponent(m[2]));
      if (!st) return json(res, 404, { error: { code: 'not_found', message: 'no such station' } });
      if (!m[3]) return json(res, 200, st);
      const from = Date.parse(url.searchParams.get('from'));
      const to = Date.parse(url.searchParams.get('to'));
      return json(res, 200, { rows: history(from, to) });
    }
    return json(res, 404, { error: { code: 'not_found', message: p } });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    requests.push(url.pathname + url.search);
    if (url.pathname.startsWith('/api/')) return api(req, res, url);
    if (url.pathname.startsWith('/tiles/')) {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      return res.end(TILE);
    }
    return serveFile(res, url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    requests,
    // Stores st as the station's state and sends it as one `station` event
    // to every stream of its system.
    push(st) {
      const list = systems[st.system_id].stations;
      list[list.findIndex((x) => x.station_id === st.station_id)] = st;
      eventId++;
      for (const c of clients) {
        if (c.system === st.system_id) {
          c.res.write(`event: station\nid: ${eventId}\ndata: ${JSON.stringify(st)}\n\n`);
        }
      }
    },
    streams: () => clients.size,
    setConfig(c) { config = c; },
    // Ends every stream: the page must show "reconnecting", then "live".
    dropStreams() {
      for (const c of clients) c.res.destroy();
      clients.clear();
    },
    close() {
      for (const c of clients) c.res.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
