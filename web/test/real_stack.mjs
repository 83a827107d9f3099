// The dashboard on the real stack (driven by tests/integration/web_real_stack.py:
// real Kafka, velo-ingest replaying fixtures, velo-stream, velo-gateway
// serving the built assets). Not a *.test.mjs: it needs that stack.
//   VELO_GATEWAY_URL    http://127.0.0.1:PORT of the gateway
//   VELO_SYSTEM         the system to show
//   VELO_STATION        a station id of it to click
//   VELO_CHANGE_FLAG    file this test creates once the panel is open; the
//                       driver then changes the station at the source
//                       (ingest produces it to Kafka)
//   VELO_CHANGE_BIKES   the bikes_available the change sets
//   VELO_WEB_ARTIFACTS  screenshots
//   VELO_CHROMIUM       browser binary (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const base = process.env.VELO_GATEWAY_URL;
const system = process.env.VELO_SYSTEM;
const stationId = process.env.VELO_STATION;
const artifacts = path.resolve(process.env.VELO_WEB_ARTIFACTS || 'web-real-stack');
const chromiumPath = process.env.VELO_CHROMIUM || '/usr/bin/chromium';
let browser;
let page;
const problems = [];

async function api(p) {
  const r = await fetch(base + p);
  assert.equal(r.status, 200, `${p}: ${r.status}`);
  return r.json();
}

before(async () => {
  const { chromium } = await import('playwright-core');
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) {
      problems.push(`${r.status()} ${r.url()}`);
    }
  });
});

after(async () => {
  if (browser) await browser.close();
});

test('real stack: page loads from the gateway, one marker per station', async () => {
  const systems = await api('/api/v1/systems');
  const sys = systems.systems.find((s) => s.system_id === system);
  assert.ok(sys, `${system} is served`);
  await page.goto(`${base}/#system=${encodeURIComponent(system)}`);
  await page.waitForSelector(`#map[data-marker-count="${sys.station_count}"]`, { timeout: 20000 });
  assert.equal(await page.inputValue('#system'), system);
  await page.waitForSelector('#live[data-state="live"]', { timeout: 20000 });
  await page.screenshot({ path: path.join(artifacts, 'real-map.png') });
});

test('real stack: clicking a station shows the values the RPC returns', async () => {
  const st = await api(`/api/v1/stations/${encodeURIComponent(system)}/${encodeURIComponent(stationId)}`);
  const pt = await page.evaluate(({ lat, lon }) => {
    const m = window.veloDashboard.map;
    m.setView([lat, lon], 18, { animate: false });
    return m.latLngToContainerPoint([lat, lon]);
  }, st);
  await page.waitForTimeout(150);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
  await page.waitForSelector(`#panel[data-station-id="${stationId}"]`);
  assert.equal(await page.textContent('#panel-name'), st.name);
  assert.equal(await page.textContent('#v-bikes'), String(st.bikes_available));
  assert.equal(await page.textContent('#v-docks'), String(st.docks_available));
  assert.equal(await page.textContent('#v-cap'), String(st.capacity));
  // JCDecaux v1 has no e-bike split: shown as unknown, never 0.
  assert.equal(await page.textContent('#v-elec'), '—');
});

async function inked() {
  return page.$$eval('#panel .uplot canvas', (cs) => cs.map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }));
}

test('real stack: history charts draw from velo-warehouse', async () => {
  await page.waitForSelector('#chart-bikes[data-rows="24"]', { timeout: 20000 });
  const ink = await inked();
  assert.equal(ink.length, 2);
  for (const n of ink) assert.ok(n > 100, `chart has ${n} inked pixels`);
  await page.screenshot({ path: path.join(artifacts, 'real-panel.png') });
  await page.click('#range-7d');
  await page.waitForSelector('#chart-bikes[data-rows="168"]', { timeout: 20000 });
  await page.screenshot({ path: path.join(artifacts, 'real-panel-7d.png') });
  await page.click('#range-24h');
});

test('real stack: a change produced to Kafka updates the open panel', async () => {
  const want = process.env.VELO_CHANGE_BIKES;
  await page.evaluate(() => { window.__noReload = true; });
  writeFileSync(process.env.VELO_CHANGE_FLAG, 'go\n');
  await page.waitForFunction((w) => document.getElementById('v-bikes').textContent === w,
    want, { timeout: 30000 });
  assert.ok(await page.evaluate(() => window.__noReload === true), 'no reload');
  await page.screenshot({ path: path.join(artifacts, 'real-live-update.png') });
  assert.deepEqual(problems, []);
});
