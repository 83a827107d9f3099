// History charts with uPlot: bikes over time (average, min, max) and the
// flows in and out. Drawn on canvas; a text summary beside them serves
// screen readers.
import uPlot from 'uplot';

function size(el) {
  return { width: Math.max(240, el.clientWidth || 320), height: 150 };
}

function series(rows) {
  const t = rows.map((r) => Date.parse(r.window_start) / 1000);
  const pick = (k) => rows.map((r) => (r[k] == null ? null : r[k]));
  return { t, avg: pick('bikes_avg'), min: pick('bikes_min'), max: pick('bikes_max'),
    inn: pick('bikes_in'), out: pick('bikes_out') };
}

export class Charts {
  constructor(bikesEl, flowsEl, summaryEl) {
    this.bikesEl = bikesEl;
    this.flowsEl = flowsEl;
    this.summaryEl = summaryEl;
    this.plots = [];
  }

  clear() {
    for (const p of this.plots) p.destroy();
    this.plots = [];
    this.bikesEl.dataset.rows = '0';
  }

  draw(rows, label) {
    this.clear();
    const s = series(rows);
    const bikes = new uPlot({
      ...size(this.bikesEl),
      series: [
        {},
        { label: 'avg', stroke: '#1b7f3b', width: 2 },
        { label: 'min', stroke: '#9a9a9a', dash: [4, 4] },
        { label: 'max', stroke: '#555', dash: [2, 2] },
      ],
      axes: [{}, { label: 'bikes' }],
      scales: { y: { range: (u, lo, hi) => [0, Math.max(1, hi ?? 1)] } },
    }, [s.t, s.avg, s.min, s.max], this.bikesEl);
    const flows = new uPlot({
      ...size(this.flowsEl),
      series: [
        {},
        { label: 'in', stroke: '#175cd3', width: 2 },
        { label: 'out', stroke: '#b42318', width: 2, dash: [6, 3] },
      ],
      axes: [{}, { label: 'bikes' }],
    }, [s.t, s.inn, s.out], this.flowsEl);
    this.plots = [bikes, flows];
    this.bikesEl.dataset.rows = String(rows.length);
    this.summaryEl.textContent = summarize(rows, label);
  }
}

export function summarize(rows, label) {
  if (rows.length === 0) return `${label}: no history yet.`;
  const sum = (k) => rows.reduce((a, r) => a + (r[k] ?? 0), 0);
  const vals = rows.map((r) => r.bikes_avg).filter((v) => v != null);
  const lo = vals.length ? Math.min(...rows.map((r) => r.bikes_min ?? r.bikes_avg ?? Infinity)) : null;
  const hi = vals.length ? Math.max(...rows.map((r) => r.bikes_max ?? r.bikes_avg ?? -Infinity)) : null;
  return `${label}: between ${lo ?? '—'} and ${hi ?? '—'} bikes; ` +
    `${sum('bikes_in')} bikes in, ${sum('bikes_out')} out.`;
}
