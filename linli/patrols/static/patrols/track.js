/* One patrol's track on a map: the track (blue), the buildings it passed (green), the problems reported
 * (red). The data comes from the page as a JSON script element (rendered through the audited selector);
 * texts come from data-* attributes on #track-map. Plain ES5-style JS, no build step. */
(function () {
  "use strict";

  var el = document.getElementById("track-map");
  var dataEl = document.getElementById("track-data");
  if (!el || !dataEl || !window.L) {
    return;
  }
  var L = window.L;
  var d = el.dataset;
  var data = JSON.parse(dataEl.textContent);

  var map = L.map(el, { zoomSnap: 0.25, maxZoom: 19 });
  map.attributionControl.setPrefix("Leaflet");
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { attribution: d.tileAttribution || "", maxZoom: 18 }).addTo(map);
  }
  map.setView([35, 105], 4);

  function textLabel(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  var bounds = null;
  function extend(b) {
    if (b && b.isValid && b.isValid()) {
      bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    }
  }

  if (data.track && data.track.geometry) {
    var track = L.geoJSON(data.track, { style: function () { return { color: "#2563eb", weight: 4, opacity: 0.85 }; } }).addTo(map);
    extend(track.getBounds());
  }
  (data.buildings || []).forEach(function (b) {
    if (b.lat === null || b.lng === null) {
      return;
    }
    L.circleMarker([b.lat, b.lng], { radius: 5, color: "#166534", weight: 1, fillColor: "#16a34a", fillOpacity: 0.9 })
      .addTo(map)
      .bindTooltip(textLabel(b.name));
    extend(L.latLngBounds([[b.lat, b.lng], [b.lat, b.lng]]));
  });
  (data.cases || []).forEach(function (c) {
    if (c.lat === null || c.lng === null) {
      return;
    }
    L.circleMarker([c.lat, c.lng], { radius: 8, color: "#fff", weight: 2, fillColor: "#b4232a", fillOpacity: 1 })
      .addTo(map)
      .bindTooltip(textLabel(c.number + " " + c.title));
  });
  function endpoint(p, label, color) {
    if (!p) {
      return;
    }
    L.circleMarker([p.lat, p.lng], { radius: 7, color: "#fff", weight: 2, fillColor: color, fillOpacity: 1 })
      .addTo(map)
      .bindTooltip(textLabel(label));
  }
  endpoint(data.start, d.msgStart, "#0f766e");
  endpoint(data.finish, d.msgFinish, "#111827");

  if (bounds) {
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 18 });
  } else {
    el.setAttribute("data-empty", "1");
    el.appendChild(textLabel(d.msgEmpty));
  }
})();
