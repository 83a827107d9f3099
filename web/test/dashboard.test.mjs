// The dashboard in headless Chromium against a fake API (fake_api.mjs):
// 3,000 markers, station panel, charts, live SSE updates, stale and
// simulated marks, search and "nearest" by keyboard, no tiles (offline),
// a strict CSP. Also the asset budget and index.html rules, which need no
// browser.
//   VELO_WEB_ASSETS     the built dashboard (scripts/build-web output)
//   VELO_WEB_ARTIFACTS  where screenshots go (default: <assets>/../web-test)
//   VELO_CHROMIUM       browser binary (default /usr/bin/chromium)
//   VELO_WEB_RENDER_MAX_MS  fail above this first render of 3,000 markers
//                       (default 1500; the target, 1000, is printed)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { makeStations, startFakeApi } from './fake_api.mjs';
import { distanceM } from '../src/util.js';

const assets = path.resolve(process.env.VELO_WEB_ASSETS || 'build/web');
const artifacts = path.resolve(process.env.VELO_WEB_ARTIFACTS ||
  path.join(assets, '..', 'web-test'));
const chromiumPath = process.env.VELO_CHROMIUM || '/usr/bin/chromium';
const N = 3000;
const BUDGET_GZ = 300 * 1024;
const RENDER_MAX_MS = Number(process.env.VELO_WEB_RENDER_MAX_MS || 1500);
const haveChromium = existsSync(chromiumPath);
const HERE = { latitude: 48.861, longitude: 2.337 };

const big = makeStations('test:paris', N);
const small = makeStations('simulate:demo', 5, { simulated: true });
let api;
let browser;
let page;
const problems = []; // console errors, page errors, CSP violations

test('assets: hashed names, no inline script or style, under budget', () => {
  const html = readFileSync(path.join(assets, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]);
  assert.equal(refs.length, 2, 'index.html references one JS and one CSS');
  for (const r of refs) assert.match(r, /^main-[A-Z0-9]{8}\.(js|css)$/);
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline script');
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'inline style or handler');
  let gz = 0;
  for (const f of readdirSync(path.join(assets, 'assets'))) {
    if (/\.(js|css)$/.test(f)) gz += gzipSync(readFileSync(path.join(assets, 'assets', f))).length;
  }
  console.log(`# JS+CSS gzipped: ${(gz / 1024).toFixed(1)} KB (budget ${BUDGET_GZ / 1024} KB)`);
  assert.ok(gz < BUDGET_GZ, `JS+CSS gzipped ${gz} bytes`);
});

before(async () => {
  if (!haveChromium) return;
  const { chromium } = await import('playwright-core');
  mkdirSync(artifacts, { recursive: true });
  api = await startFakeApi(assets, {
    'test:paris': { name: 'Test Paris', stations: big },
    'simulate:demo': { name: 'Demo (simulated)', stations: small },
  });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
    // playwright gives the browser a fresh temporary profile and removes it.
  });
  // The browser's location: inside the grid of stations.
  page = await browser.newPage({
    viewport: { width: 1400, height: 900 },
    geolocation: HERE, permissions: ['geolocation'],
  });
  // Errors that count: script errors, and failed requests other than the
  // favicon and the SSE stream the test drops on purpose.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) {
      problems.push(`${r.status()} ${r.url()}`);
    }
  });
  page.on('requestfailed', (r) => {
    if (!r.url().includes('/api/v1/events')) problems.push(`failed ${r.url()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    window.__liveStates = [];
    new MutationObserver(() => {
      const el = document.getElementById('live');
      if (el) window.__liveStates.push(el.dataset.state);
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
});

after(async () => {
  if (browser) await browser.close();
  if (api) await api.close();
});

const opts = { skip: haveChromium ? false : `no browser at ${chromiumPath}` };

test('browser: loads, draws every marker without tiles, shows live', opts, async () => {
  const t0 = Date.now();
  await page.goto(api.url);
  await page.waitForSelector(`#map[data-marker-count="${N}"]`, { timeout: 15000 });
  await page.waitForSelector('body[data-render-ms]');
  const loadMs = Date.now() - t0;
  const renderMs = Number(await page.getAttribute('body', 'data-render-ms'));
  console.log(`# first render of ${N} markers: ${renderMs.toFixed(0)} ms ` +
    `(target < 1000${renderMs >= 1000 ? ': OVER TARGET' : ''}); page load to markers: ${loadMs} ms`);
  // The target is 1 s; the limit leaves room for a loaded shared machine.
  assert.ok(renderMs > 0 && renderMs < RENDER_MAX_MS, `render took ${renderMs} ms`);
  assert.equal(await page.inputValue('#system'), 'test:paris');
  assert.equal(await page.$$eval('#system option', (o) => o.length), 2);
  await page.waitForSelector('#live[data-state="live"]');
  // Offline: no tile layer, every request went to the fake API.
  assert.equal(await page.$$eval('.leaflet-tile', (t) => t.length), 0);
  assert.ok(await page.$eval('#map', (m) => m.classList.contains('no-tiles')));
  // The markers are on the canvas: some pixels are not background.
  const painted = await page.$eval('#map canvas', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(painted > 1000, `only ${painted} painted pixels`);
  await page.screenshot({ path: path.join(artifacts, 'map.png') });
});

async function waitFor(cond, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Zooms onto a station and clicks its marker on the canvas.
async function clickStation(st) {
  const pt = await page.evaluate(({ lat, lon }) => {
    const m = window.veloDashboard.map;
    m.setView([lat, lon], 18, { animate: false });
    return m.latLngToContainerPoint([lat, lon]);
  }, st);
  await page.waitForTimeout(100); // one canvas redraw
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
}

test('browser: clicking a marker shows the station, charts draw', opts, async () => {
  const st = big[1234];
  await clickStation(st);
  await page.waitForSelector(`#panel[data-station-id="${st.station_id}"]`);
  assert.equal(await page.textContent('#panel-name'), st.name);
  assert.equal(await page.textContent('#v-bikes'), String(st.bikes_available));
  assert.equal(await page.textContent('#v-docks'), String(st.docks_available));
  assert.equal(await page.textContent('#v-cap'), String(st.capacity));
  assert.equal(await page.textContent('#v-elec'), String(st.electric_bikes));
  assert.match(await page.textContent('#v-status'), /^OPEN: /);
  assert.match(await page.textContent('#v-age'), /\d+ (s|min)/);
  await page.waitForSelector('#chart-bikes[data-rows="24"]');
  const inked = await page.$$eval('#panel .uplot canvas', (cs) => cs.map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }));
  assert.equal(inked.length, 2);
  for (const n of inked) assert.ok(n > 100, `chart has ${n} inked pixels`);
  assert.match(await page.textContent('#chart-summary'), /Last 24 h: between/);
  await page.click('#range-7d');
  await page.waitForSelector('#chart-bikes[data-rows="168"]');
  assert.equal(await page.getAttribute('#range-7d', 'aria-pressed'), 'true');
  await page.screenshot({ path: path.join(artifacts, 'panel.png') });
});

test('browser: an SSE event updates the open panel without reload', opts, async () => {
  await page.evaluate(() => { window.__noReload = true; });
  const st = big[1234];
  api.push({ ...st, bikes_available: 99, electric_bikes: 40, mechanical_bikes: 59, stale: true });
  await page.waitForFunction(() => document.getElementById('v-bikes').textContent === '99');
  assert.equal(await page.textContent('#v-elec'), '40');
  assert.match(await page.textContent('#panel-badges'), /Stale data/);
  assert.ok(await page.evaluate(() => window.__noReload === true));
  // The stream drops: "reconnecting" shows, then "live" again, and the
  // stations are reloaded (events sent meanwhile may be lost).
  const loads = () => api.requests.filter((r) => r.startsWith('/api/v1/stations?system=test')).length;
  const before = loads();
  api.dropStreams();
  await page.waitForFunction(() => window.__liveStates.includes('reconnecting'));
  await page.waitForSelector('#live[data-state="live"]');
  await waitFor(() => loads() > before);
  api.push({ ...st, bikes_available: 98 });
  await page.waitForFunction(() => document.getElementById('v-bikes').textContent === '98');
});

test('browser: keyboard search opens a station, nearest from a map click', opts, async () => {
  await page.focus('#search');
  await page.keyboard.type('Part-Dieu');
  await page.waitForSelector('#results button');
  assert.match(await page.textContent('#results-count'), /^1 stations? match/);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#panel[data-station-id="s0007"]');
  assert.equal(await page.textContent('#panel-name'), big[7].name); // as text, not HTML
  assert.equal(await page.evaluate(() => document.activeElement.id), 'panel');
  await page.keyboard.press('Escape');
  assert.equal(await page.isVisible('#panel'), false);
  // A click on the map sets the point; nearest with a bike is computed.
  const target = big.find((s) => s.bikes_available > 0 && s.status === 'OPEN' && s.station_id > 's2000');
  const pt = await page.evaluate(({ lat, lon }) => {
    const m = window.veloDashboard.map;
    m.setView([lat, lon], 18, { animate: false });
    return m.latLngToContainerPoint([lat + 0.00005, lon + 0.00005]);
  }, target);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
  await page.waitForSelector('#nearest-bike:not([disabled])');
  await page.click('#nearest-bike');
  await page.waitForSelector(`#nearest-out[data-station-id="${target.station_id}"]`);
  await page.waitForSelector(`#panel[data-station-id="${target.station_id}"]`);
});

test('browser: nearest free dock from the browser location', opts, async () => {
  await page.click('#locate');
  await page.waitForFunction(() => /your location/.test(document.getElementById('ref-point').textContent));
  let want = null;
  let best = Infinity;
  for (const st of big) {
    if (st.status === 'CLOSED' || !(st.docks_available > 0)) continue;
    const d = distanceM(HERE.latitude, HERE.longitude, st.lat, st.lon);
    if (d < best) { best = d; want = st; }
  }
  await page.click('#nearest-dock');
  await page.waitForSelector(`#nearest-out[data-station-id="${want.station_id}"]`);
  assert.match(await page.textContent('#nearest-out'), /\d+ m away/);
});

test('browser: simulated system is marked, no CSP violations or errors', opts, async () => {
  assert.equal(await page.isVisible('#sim-banner'), false, 'real data marked simulated');
  await page.selectOption('#system', 'simulate:demo');
  await page.waitForSelector('#map[data-marker-count="5"]');
  await page.waitForSelector('#sim-banner', { state: 'visible' });
  await page.waitForFunction(() => window.location.hash === '#system=simulate%3Ademo');
  await page.screenshot({ path: path.join(artifacts, 'simulated.png') });
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual(csp, [], `CSP violations: ${csp}`);
  assert.deepEqual(problems, []);
  assert.ok(api.requests.every((r) => r.startsWith('/')), 'only same-origin requests');
});

test('browser: keyboard focus order follows the layout', opts, async () => {
  const p2 = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  try {
    await p2.goto(api.url);
    await p2.waitForSelector(`#map[data-marker-count="${N}"]`);
    const seen = [];
    for (let i = 0; i < 10; i++) {
      await p2.keyboard.press('Tab');
      seen.push(await p2.evaluate(() => {
        const a = document.activeElement;
        return a.id || a.className.split(' ')[0] || a.tagName;
      }));
    }
    const at = (id) => seen.indexOf(id);
    assert.equal(seen[0], 'skip', `focus order ${seen}`);
    for (const [a, b] of [['system', 'search'], ['search', 'locate'], ['locate', 'map']]) {
      assert.ok(at(a) >= 0 && at(a) < at(b), `focus order ${seen}`);
    }
    // Every form control has an accessible name.
    const unnamed = await p2.$$eval('input, select, button', (els) => els
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
        !e.textContent.trim())
      .map((e) => e.id || e.outerHTML.slice(0, 60)));
    assert.deepEqual(unnamed, []);
  } finally {
    await p2.close();
  }
});

test('browser: a configured tile URL draws tiles', opts, async () => {
  api.setConfig({ tile_url: `${api.url}tiles/{z}/{x}/{y}.png`, tile_attribution: 'Test tiles' });
  const p2 = await browser.newPage({ viewport: { width: 800, height: 600 } });
  try {
    await p2.goto(api.url);
    await p2.waitForSelector(`#map[data-marker-count="${N}"]`);
    await p2.waitForSelector('.leaflet-tile-loaded');
    assert.match(await p2.textContent('.leaflet-control-attribution'), /Test tiles/);
    assert.ok(api.requests.some((r) => r.startsWith('/tiles/')));
    assert.equal(await p2.$eval('#map', (m) => m.classList.contains('no-tiles')), false);
    await p2.screenshot({ path: path.join(artifacts, 'tiles.png') });
  } finally {
    await p2.close();
    api.setConfig({});
  }
});
