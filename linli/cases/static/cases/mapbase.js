/* The start every case map shares (the staff and public case maps, the 代客 pin picker): a Leaflet map on
 * an element whose data-* attributes give the tiles (data-tile-url, data-tile-attribution), the district's
 * extent (data-bbox) and the community outlines (data-community-url, drawn when they arrive).
 * window.linliCaseMap(el) returns { map, outlines }: outlines is a promise of the outline layer or null. */
(function () {
  "use strict";

  window.linliCaseMap = function (el) {
    var L = window.L;
    var d = el.dataset;
    var map = L.map(el, { zoomSnap: 0.5, maxZoom: 19 });
    map.attributionControl.setPrefix("Leaflet");
    if (d.tileUrl) {
      L.tileLayer(d.tileUrl, { attribution: d.tileAttribution || "", maxZoom: 18 }).addTo(map);
    }
    var bbox = (d.bbox || "").split(",").map(Number);
    if (bbox.length === 4 && bbox.every(isFinite)) {
      map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
    } else {
      map.setView([35, 105], 4);
    }
    var outlines = Promise.resolve(null);
    if (window.fetch && d.communityUrl) {
      outlines = fetch(d.communityUrl, { credentials: "same-origin" })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (layer) {
          return layer
            ? L.geoJSON(layer, {
                interactive: false,
                style: { color: "#b45309", weight: 1, fillColor: "#fef3c7", fillOpacity: 0.35 },
              }).addTo(map)
            : null;
        })
        .catch(function () {
          return null;
        });
    }
    return { map: map, outlines: outlines };
  };
})();
