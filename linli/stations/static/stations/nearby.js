/* The station finder: pins of every published station, and "离我最近" which asks the browser where we are
 * and reloads the list nearest first (the server renders it; this file only adds the map and the button).
 * URLs and texts come from data-* attributes on #station-map. No build step, no inline script. */
(function () {
  "use strict";

  var el = document.getElementById("station-map");
  if (!el || !window.L) {
    return;
  }
  var L = window.L;
  var d = el.dataset;
  var statusEl = document.getElementById("station-status");
  var form = document.getElementById("station-filters");
  var button = document.getElementById("near-me");

  function say(text, isError) {
    statusEl.textContent = text || "";
    statusEl.hidden = !text;
    statusEl.classList.toggle("is-error", Boolean(isError));
  }

  var map = L.map(el, { zoomSnap: 0.25, minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix("Leaflet");
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { attribution: d.tileAttribution || "", maxZoom: 18 }).addTo(map);
  }
  map.setView([35, 105], 4);

  var KIND_COLORS = {
    district_center: "#7a1f1f",
    community_center: "#b4232a",
    post: "#d97706",
    home: "#2563eb",
    neighborhood: "#059669",
    featured: "#7c3aed",
  };

  function pin(feature, latlng) {
    var p = feature.properties;
    var big = p.kind === "district_center" || p.kind === "community_center";
    return L.circleMarker(latlng, {
      radius: big ? 8 : 6,
      color: "#fff",
      weight: 2,
      fillColor: KIND_COLORS[p.kind] || "#555",
      fillOpacity: p.open_now ? 1 : 0.45,
    });
  }

  fetch(d.layerUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        pointToLayer: pin,
        onEachFeature: function (f, lyr) {
          var p = f.properties;
          lyr.bindTooltip(p.name + " · " + (p.open_now ? d.msgOpen : d.msgClosed));
          lyr.on("click", function () { window.location.href = p.url; });
        },
      }).addTo(map);
      if (layer.getLayers().length) {
        map.fitBounds(layer.getBounds(), { padding: [16, 16] });
      }
      el.setAttribute("data-loaded", String(layer.getLayers().length));
      var lat = parseFloat(document.getElementById("f-lat").value);
      var lng = parseFloat(document.getElementById("f-lng").value);
      if (isFinite(lat) && isFinite(lng)) {
        L.circleMarker([lat, lng], { radius: 8, color: "#fff", weight: 3, fillColor: "#111", fillOpacity: 1 })
          .addTo(map).bindTooltip(d.msgYouAreHere);
        map.setView([lat, lng], 15);
      }
    })
    .catch(function () { el.hidden = true; });

  if (!navigator.geolocation) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    say(d.msgLocating);
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        document.getElementById("f-lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("f-lng").value = pos.coords.longitude.toFixed(6);
        form.submit();
      },
      function () {
        button.disabled = false;
        say(d.msgGeoFailed, true);
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
