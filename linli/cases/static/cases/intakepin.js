/* 代客登记: a pin on a map fills the form's 纬度/经度 (and a typed point shows as the pin). The fields stay
 * the source of truth: the form works without this script; a click fires their "change" event, which
 * also refreshes the panel of open cases already filed there. */
(function () {
  "use strict";

  var el = document.getElementById("intake-map");
  var lat = document.getElementById("id_lat");
  var lng = document.getElementById("id_lng");
  if (!el || !lat || !lng || !window.L) {
    return;
  }
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
  if (window.fetch && d.communityUrl) {
    fetch(d.communityUrl, { credentials: "same-origin" })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (layer) {
        if (layer) {
          L.geoJSON(layer, {
            interactive: false,
            style: { color: "#b45309", weight: 1, fillColor: "#fef3c7", fillOpacity: 0.35 },
          }).addTo(map);
        }
      })
      .catch(function () {});
  }

  var pin = null;
  function show(a, b) {
    if (pin) {
      pin.setLatLng([a, b]);
    } else {
      pin = L.circleMarker([a, b], { radius: 8, color: "#1d4ed8", weight: 2, fillOpacity: 0.6 }).addTo(map);
    }
  }
  function fromFields() {
    var a = Number(lat.value);
    var b = Number(lng.value);
    if (lat.value && lng.value && isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) {
      show(a, b);
    }
  }
  map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6);
    lng.value = e.latlng.lng.toFixed(6);
    show(e.latlng.lat, e.latlng.lng);
    lng.dispatchEvent(new Event("change", { bubbles: true }));
  });
  lat.addEventListener("change", fromFields);
  lng.addEventListener("change", fromFields);
  fromFields();
  if (pin) {
    map.setView(pin.getLatLng(), 17);
  }
})();
