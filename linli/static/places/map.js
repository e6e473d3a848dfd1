/* The district map: our own GeoJSON layers on a plain background (base-map tiles only if configured).
 * Everything the page needs (layer URLs, texts in the user's language) comes from data-* attributes on
 * #map, so this file holds no URLs and no Chinese text. Plain ES5-style JS: no build step. */
(function () {
  "use strict";

  var el = document.getElementById("map");
  if (!el || !window.L) {
    return;
  }
  var L = window.L;
  var d = el.dataset;
  var statusEl = document.getElementById("map-status");
  var panel = document.getElementById("map-panel");
  var panelTitle = document.getElementById("panel-title");
  var panelKicker = document.getElementById("panel-kicker");
  var panelLoading = document.getElementById("panel-loading");
  var panelGrid = document.getElementById("panel-grid");
  var panelCommunity = document.getElementById("panel-community");

  var STYLES = {
    street: { color: "#7a1f1f", weight: 3, opacity: 0.9, fill: false },
    community: { color: "#b45309", weight: 1.5, opacity: 0.9, fillColor: "#fef3c7", fillOpacity: 0.7 },
    grid: { color: "#2563eb", weight: 1, opacity: 0.7, fillColor: "#3b82f6", fillOpacity: 0.08, className: "grid-shape" },
    gridSelected: { color: "#b4232a", weight: 3, opacity: 1, fillColor: "#f87171", fillOpacity: 0.28 },
  };

  var map = L.map(el, { zoomSnap: 0.25, minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix("Leaflet");
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { attribution: d.tileAttribution || "", maxZoom: 18 }).addTo(map);
  }
  // Fixed stacking, whatever order the layers arrive in: streets under communities under grids.
  [["streets", 410], ["communities", 420], ["grids", 430], ["me", 440]].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = String(p[1]);
  });
  map.setView([35, 105], 4);

  var layers = {};
  var streetNames = {};
  var selected = null;
  var fitted = false;
  var pending = 0;

  function say(text, isError) {
    statusEl.textContent = text || "";
    statusEl.hidden = !text;
    statusEl.classList.toggle("is-error", Boolean(isError));
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(
        function (body) {
          if (!r.ok) {
            throw new Error((body && body.message) || d.msgLoadFailed);
          }
          return body;
        },
        function () {
          throw new Error(d.msgLoadFailed);
        }
      );
    });
  }

  // Once every layer has answered, show all of them (the street layer alone may be empty).
  function fitAll() {
    var bounds = null;
    Object.keys(layers).forEach(function (name) {
      if (layers[name].getLayers().length) {
        bounds = bounds ? bounds.extend(layers[name].getBounds()) : L.latLngBounds(layers[name].getBounds());
      }
    });
    if (bounds && bounds.isValid()) {
      fitted = true;
      map.fitBounds(bounds, { padding: [16, 16] });
    }
  }

  function openPanel(kind, title) {
    panel.hidden = false;
    panelKicker.textContent = kind === "grid" ? d.msgKindGrid : d.msgKindCommunity;
    panelTitle.textContent = title;
    panelGrid.hidden = true;
    panelCommunity.hidden = true;
    panelLoading.hidden = true;
    panel.classList.add("is-open");
  }

  // On a phone the panel is a bottom sheet: move the map so the chosen shape stays visible above it.
  function keepVisible(layer) {
    var size = map.getSize();
    var sheet = panel.getBoundingClientRect();
    var mapBox = el.getBoundingClientRect();
    var covered = mapBox.bottom - sheet.top;
    if (sheet.width < mapBox.width || covered <= 0) {
      return;
    }
    var p = map.latLngToContainerPoint(layer.getBounds().getCenter());
    var visibleH = size.y - covered;
    if (p.y > visibleH - 24) {
      map.panBy([0, p.y - visibleH / 2]);
    }
  }

  function fill(section, values) {
    section.querySelectorAll("[data-field]").forEach(function (dd) {
      var v = values[dd.getAttribute("data-field")];
      dd.textContent = v === undefined || v === null || v === "" ? d.msgNone : String(v);
    });
    section.hidden = false;
  }

  function closePanel() {
    panel.hidden = true;
    panel.classList.remove("is-open");
    if (selected) {
      selected.setStyle(STYLES.grid);
      selected = null;
    }
  }

  function showGrid(layer, props) {
    if (selected) {
      selected.setStyle(STYLES.grid);
    }
    selected = layer;
    layer.setStyle(STYLES.gridSelected);
    openPanel("grid", props.name);
    panelLoading.hidden = false;
    var url = d.gridDetailUrl.replace(/0$/, String(props.id));
    getJSON(url).then(
      function (g) {
        if (selected !== layer) {
          return; // another grid was clicked meanwhile
        }
        panelLoading.hidden = true;
        fill(panelGrid, {
          community_name: g.community_name,
          street_name: g.street_name,
          workers: g.workers.map(function (w) { return w.name; }).join("、"),
          households: g.households,
          code: g.code,
        });
        keepVisible(layer);
      },
      function (err) {
        panelLoading.hidden = true;
        say(err.message, true);
      }
    );
  }

  function showCommunity(layer, props) {
    openPanel("community", props.name);
    fill(panelCommunity, { street_name: streetNames[props.parent_id], code: props.code });
    keepVisible(layer);
  }

  function load(name, url, options) {
    if (!url) {
      return;
    }
    pending += 1;
    say(d.msgLoading);
    getJSON(url).then(
      function (data) {
        var layer = L.geoJSON(data, options);
        layers[name] = layer;
        var toggle = document.querySelector('input[data-layer="' + name + '"]');
        if (!toggle || toggle.checked) {
          layer.addTo(map);
        }
        pending -= 1;
        if (pending === 0) {
          fitAll();
          say(fitted ? "" : d.msgEmpty);
        }
        el.setAttribute("data-loaded-" + name, String(layer.getLayers().length));
      },
      function (err) {
        pending -= 1;
        if (pending === 0) {
          fitAll();
        }
        say(err.message, true);
      }
    );
  }

  // Leaflet puts a string tooltip in with innerHTML; names are data typed by people, so give it a text node.
  function textLabel(text) {
    var el = document.createElement("span");
    el.textContent = text;
    return el;
  }

  load("street", d.streetUrl, {
    pane: "streets",
    interactive: false,
    style: function () { return STYLES.street; },
    onEachFeature: function (f) { streetNames[f.properties.id] = f.properties.name; },
  });
  load("community", d.communityUrl, {
    pane: "communities",
    style: function () { return STYLES.community; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(textLabel(f.properties.name), { permanent: true, direction: "center", className: "region-label" });
      layer.on("click", function () { showCommunity(layer, f.properties); });
    },
  });
  load("grid", d.gridLayerUrl, {
    pane: "grids",
    style: function () { return STYLES.grid; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(textLabel(f.properties.name), { sticky: true, className: "grid-tip" });
      layer.on("click", function () { showGrid(layer, f.properties); });
    },
  });

  document.querySelectorAll("input[data-layer]").forEach(function (input) {
    input.addEventListener("change", function () {
      var layer = layers[input.getAttribute("data-layer")];
      if (!layer) {
        return;
      }
      if (input.checked) {
        layer.addTo(map);
      } else {
        map.removeLayer(layer);
      }
    });
  });

  document.getElementById("panel-close").addEventListener("click", closePanel);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !panel.hidden) {
      closePanel();
    }
  });

  // "我的位置": the browser's position, then which grid / community / street it falls in.
  var meMarker = null;
  var locateBtn = document.getElementById("locate-btn");
  locateBtn.addEventListener("click", function () {
    if (!navigator.geolocation) {
      say(d.msgNoGeo, true);
      return;
    }
    say(d.msgLocating);
    locateBtn.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        var lat = pos.coords.latitude;
        var lng = pos.coords.longitude;
        if (meMarker) {
          map.removeLayer(meMarker);
        }
        meMarker = L.circleMarker([lat, lng], {
          pane: "me", radius: 8, color: "#fff", weight: 3, fillColor: "#b4232a", fillOpacity: 1,
        }).addTo(map).bindTooltip(d.msgYouAreHere);
        map.setView([lat, lng], Math.max(map.getZoom(), 15));
        var qs = "?lat=" + encodeURIComponent(lat) + "&lng=" + encodeURIComponent(lng);
        getJSON(d.locateUrl + qs).then(
          function (loc) {
            locateBtn.disabled = false;
            var chain = [loc.district, loc.street, loc.community, loc.grid].map(function (r) { return r.name; });
            say(chain.join(" › ") + (loc.snapped ? " " + d.msgSnapped : ""));
          },
          function (err) {
            locateBtn.disabled = false;
            say(err.message, true);
          }
        );
      },
      function (err) {
        locateBtn.disabled = false;
        say(err.code === 1 ? d.msgGeoDenied : d.msgGeoFailed, true);
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
