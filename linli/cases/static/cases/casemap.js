/* Case pins on a map (staff: open cases in scope; public: solved published cases). Pins are fetched for
 * the visible box (≤ 100 per answer) whenever the map stops moving. Texts and URLs come from data-*
 * attributes; pin labels are set as text, never as HTML. */
(function () {
  "use strict";

  var el = document.getElementById("case-map");
  if (!el || !window.L || !window.fetch || !window.linliCaseMap) {
    return;
  }
  var L = window.L;
  var d = el.dataset;
  var note = document.getElementById("case-map-note");
  var base = window.linliCaseMap(el); // tiles, extent, community outlines (mapbase.js)
  var map = base.map;
  var pins = L.layerGroup().addTo(map);
  var seq = 0;
  base.outlines.then(function (outlines) {
    if (outlines) {
      pins.eachLayer(function (pin) {
        pin.bringToFront();
      });
    }
  });

  function popup(pin) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = pin.c || pin.n;
    box.appendChild(title);
    var meta = document.createElement("div");
    meta.textContent = pin.n + (pin.s ? " · " + pin.s : "") + (pin.o ? " · " + d.msgOverdue : "");
    box.appendChild(meta);
    var link = document.createElement("a");
    link.href = d.detailUrl.replace(/\/0\/$/, "/" + pin.id + "/");
    link.textContent = d.msgOpen;
    box.appendChild(link);
    return box;
  }

  function load() {
    var mine = ++seq;
    var url = d.pinsUrl + "?bbox=" + encodeURIComponent(map.getBounds().toBBoxString());
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("pins");
        return r.json();
      })
      .then(function (body) {
        if (mine !== seq) return; // a newer request is on its way
        pins.clearLayers();
        body.pins.forEach(function (pin) {
          L.circleMarker([pin.lat, pin.lng], {
            radius: 7,
            color: pin.o ? "#a61b1b" : "#1d4ed8",
            weight: 2,
            fillOpacity: 0.6,
            className: "case-pin" + (pin.o ? " is-overdue" : ""),
          })
            .bindPopup(popup(pin))
            .addTo(pins);
        });
        el.setAttribute("data-loaded", String(body.pins.length));
        note.textContent = body.truncated ? d.msgTruncated : "";
      })
      .catch(function () {
        note.textContent = d.msgFailed;
      });
  }

  map.on("moveend", load);
  load();
})();
