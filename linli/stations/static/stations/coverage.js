/* The coverage map: estates coloured by walking time to the nearest station, the stations, and any
 * suggested new sites listed on the page (#site-list li[data-lat][data-lng]). Texts from data-*. */
(function () {
  "use strict";

  var el = document.getElementById("coverage-map");
  if (!el || !window.L) {
    return;
  }
  var L = window.L;
  var d = el.dataset;
  var map = L.map(el, { zoomSnap: 0.25, minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix("Leaflet");
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { attribution: d.tileAttribution || "", maxZoom: 18 }).addTo(map);
  }
  map.setView([35, 105], 4);
  var bounds = null;

  function extend(latlng) {
    bounds = bounds ? bounds.extend(latlng) : L.latLngBounds(latlng, latlng);
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    });
  }

  var estates = getJSON(d.coverageUrl).then(function (data) {
    data.estates.forEach(function (e) {
      var color = e.within_5 ? "#059669" : e.within_15 ? "#d97706" : "#b4232a";
      var label = e.within_5 ? d.msgCovered5 : e.within_15 ? d.msgCovered15 : d.msgUncovered;
      var mins = e.walk_minutes === null ? "—" : Math.round(e.walk_minutes) + " " + d.msgMinutes;
      L.circleMarker([e.lat, e.lng], { radius: 4 + Math.min(6, Math.sqrt(e.population) / 8), color: color, weight: 1, fillColor: color, fillOpacity: 0.6 })
        .addTo(map).bindTooltip(e.name + " · " + e.population + " " + d.msgPeople + " · " + label + " · " + mins);
      extend([e.lat, e.lng]);
    });
    el.setAttribute("data-estates", String(data.estates.length));
  });
  var stations = getJSON(d.layerUrl).then(function (data) {
    L.geoJSON(data, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#fff", weight: 2, fillColor: "#1d4ed8", fillOpacity: 1 });
      },
      onEachFeature: function (f, lyr) { lyr.bindTooltip(f.properties.name); },
    }).addTo(map);
  });
  document.querySelectorAll("#site-list li[data-lat]").forEach(function (li) {
    var latlng = [parseFloat(li.getAttribute("data-lat")), parseFloat(li.getAttribute("data-lng"))];
    L.circleMarker(latlng, { radius: 9, color: "#111", weight: 3, fillColor: "#facc15", fillOpacity: 1 })
      .addTo(map).bindTooltip(d.msgNewSite + ":" + li.getAttribute("data-name"), { permanent: true, direction: "top" });
    extend(latlng);
  });
  Promise.all([estates, stations]).then(function () {
    if (bounds && bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16] });
    }
  }, function () {});
})();
