/* 代客登记: a pin on a map fills the form's 纬度/经度 (and a typed point shows as the pin). The fields stay
 * the source of truth: the form works without this script; a click fires their "change" event, which
 * also refreshes the panel of open cases already filed there. */
(function () {
  "use strict";

  var el = document.getElementById("intake-map");
  var lat = document.getElementById("id_lat");
  var lng = document.getElementById("id_lng");
  if (!el || !lat || !lng || !window.L || !window.linliCaseMap) {
    return;
  }
  var L = window.L;
  var map = window.linliCaseMap(el).map; // tiles, extent, community outlines (mapbase.js)

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
