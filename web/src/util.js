// Small pure helpers shared by the dashboard modules.

// Availability class of a station: drives marker colour, size and the
// panel's text label, so colour is never the only signal.
export function availability(st) {
  if (st.status === 'CLOSED' || st.bikes_available == null) return 'closed';
  if (st.bikes_available === 0) return 'empty';
  if (st.docks_available === 0) return 'full';
  if (st.bikes_available <= 2) return 'low';
  return 'ok';
}

export const AVAILABILITY_LABEL = {
  ok: 'Bikes and docks free',
  low: 'Few bikes',
  empty: 'No bike',
  full: 'No free dock',
  closed: 'Closed or unknown',
};

// Great-circle distance in metres.
export function distanceM(lat1, lon1, lat2, lon2) {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
}

// Case- and accent-insensitive form for search.
export function fold(s) {
  return (s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

// "42 s", "5 min", "3 h", "2 d".
export function formatAge(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return 'unknown';
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

// A count or an em dash when the source did not send it.
export function count(v) {
  return v == null ? '—' : String(v);
}

export function located(st) {
  return Number.isFinite(st.lat) && Number.isFinite(st.lon);
}

// Age of a station's data in seconds: from last_reported when known (so
// the number keeps growing between updates), else the server's age_s.
export function ageSeconds(st, nowMs) {
  const t = st.last_reported ? Date.parse(st.last_reported) : NaN;
  if (Number.isFinite(t)) return (nowMs - t) / 1000;
  return st.age_s ?? null;
}
