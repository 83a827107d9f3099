// The station map: Leaflet with one canvas renderer, so thousands of
// circle markers stay smooth. Tiles are optional: without a tile URL the
// background stays blank and markers still draw (offline-friendly).
import L from 'leaflet';
import { availability, located } from './util.js';

// Colour, radius, fill and outline per availability class: size and fill
// differ too, so the map does not rely on colour alone.
const STYLE = {
  ok: { color: '#1b7f3b', fillColor: '#2ea44f', radius: 7, fillOpacity: 0.85, weight: 1 },
  low: { color: '#9a5b00', fillColor: '#e3a008', radius: 5.5, fillOpacity: 0.85, weight: 1 },
  empty: { color: '#b42318', fillColor: '#b42318', radius: 4.5, fillOpacity: 0.1, weight: 2 },
  full: { color: '#5b3cc4', fillColor: '#8c6fe6', radius: 6.5, fillOpacity: 0.6, weight: 3.5 },
  closed: { color: '#555', fillColor: '#999', radius: 3.5, fillOpacity: 0.7, weight: 1 },
};

export function markerStyle(st) {
  const s = { ...STYLE[availability(st)] };
  s.dashArray = st.stale ? '2 3' : null;
  return s;
}

export class StationMap {
  constructor(el, { tileUrl, tileAttribution, onSelect, onPoint }) {
    this.el = el;
    this.renderer = L.canvas({ padding: 0.5, tolerance: 4 });
    this.map = L.map(el, {
      renderer: this.renderer,
      preferCanvas: true,
      zoomControl: true,
      attributionControl: Boolean(tileUrl),
      keyboard: true,
    }).setView([48.8566, 2.3522], 12);
    if (tileUrl) {
      L.tileLayer(tileUrl, { attribution: tileAttribution || '', maxZoom: 19 })
        .addTo(this.map);
    } else {
      el.classList.add('no-tiles');
    }
    this.layer = L.layerGroup().addTo(this.map);
    this.markers = new Map(); // station_id -> circleMarker
    this.onSelect = onSelect;
    this.map.on('click', (e) => onPoint(e.latlng.lat, e.latlng.lng));
    this.point = null;
    this.selected = null;
  }

  // Replaces every marker.
  setStations(stations) {
    this.layer.clearLayers();
    this.markers.clear();
    const bounds = [];
    for (const st of stations) {
      if (!located(st)) continue;
      const m = L.circleMarker([st.lat, st.lon], {
        ...markerStyle(st),
        renderer: this.renderer,
        bubblingMouseEvents: false, // a marker click is not a map click
      });
      m.stationId = st.station_id;
      m.station = st;
      m.on('click', () => this.onSelect(m.stationId));
      m.addTo(this.layer);
      this.markers.set(st.station_id, m);
      bounds.push([st.lat, st.lon]);
    }
    if (bounds.length > 0) this.map.fitBounds(bounds, { padding: [20, 20] });
    this.el.dataset.markerCount = String(this.markers.size);
  }

  update(st) {
    const m = this.markers.get(st.station_id);
    if (!m) return;
    m.station = st;
    m.setStyle(markerStyle(st));
    if (located(st)) m.setLatLng([st.lat, st.lon]);
    if (this.selected === st.station_id) m.setStyle({ weight: 4, color: '#000' });
  }

  select(st, pan) {
    if (this.selected != null) {
      const prev = this.markers.get(this.selected);
      if (prev) prev.setStyle(markerStyle(prev.station));
    }
    this.selected = st.station_id;
    const m = this.markers.get(st.station_id);
    if (m) {
      m.setStyle({ weight: 4, color: '#000' });
      m.bringToFront();
      if (pan) this.map.panTo(m.getLatLng());
    }
  }

  setPoint(lat, lon) {
    if (this.point) this.point.remove();
    this.point = L.circleMarker([lat, lon], {
      renderer: this.renderer, radius: 6, color: '#000', weight: 2,
      fillColor: '#fff', fillOpacity: 1, interactive: false,
    }).addTo(this.map);
  }

  containerPoint(st) {
    return this.map.latLngToContainerPoint([st.lat, st.lon]);
  }
}
