/* 我要反映: the report page on a phone with a weak network.
 * - photos are resized in the browser (canvas → JPEG, ≤ 1600 px edge, ≤ 400 KB) before upload;
 * - location from the phone, or a pin on a map (Leaflet is loaded only when the pin picker opens);
 * - nearby open cases of the same category are offered before a new case is filed ("me too");
 * - the form is posted with fetch: a failed attempt keeps everything on screen, and a retry carries the
 *   same idempotency key, so the server files one case however often it is sent.
 * Texts and URLs come from data-* attributes (no Chinese and no URLs here). Plain ES5: no build step. */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form || !window.fetch || !window.FormData) {
    return; // the plain form still works
  }
  var d = form.dataset;
  var MAX_PHOTOS = 9;
  var MAX_EDGE = 1600;
  var MAX_BYTES = 400 * 1024;
  var MAX_UPLOAD = 10 * 1024 * 1024;
  var TYPES = /^image\/(jpeg|png|heic|heif)$/;

  var photos = []; // {blob, name, url}
  var pending = 0;
  var kindTouched = false;
  var nearbyShown = false;
  var lastNearbyQuery = "";

  function $(id) {
    return document.getElementById(id);
  }
  function field(name) {
    return form.elements[name];
  }
  function csrf() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function setError(name, message) {
    var slot = form.querySelector('[data-error-for="' + name + '"]');
    if (slot) {
      slot.textContent = message || "";
      var box = slot.closest(".field");
      if (box) box.classList.toggle("has-error", Boolean(message));
      return true;
    }
    return false;
  }
  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-error-for]"), function (slot) {
      setError(slot.getAttribute("data-error-for"), "");
    });
    var box = $("form-errors");
    box.textContent = "";
    box.hidden = true;
  }
  function showFormError(message) {
    var box = $("form-errors");
    box.appendChild(el("p", "", message));
    box.hidden = false;
  }
  function status(message) {
    $("submit-status").textContent = message || "";
  }

  // --- kind follows the category until the resident picks one --------------------------------------
  var category = field("category");
  Array.prototype.forEach.call(form.querySelectorAll("input[name=kind]"), function (radio) {
    radio.addEventListener("change", function () {
      kindTouched = true;
    });
  });
  category.addEventListener("change", function () {
    var option = category.options[category.selectedIndex];
    var kind = option && option.getAttribute("data-kind");
    if (kind && !kindTouched) {
      var radio = form.querySelector('input[name=kind][value="' + kind + '"]');
      if (radio) radio.checked = true;
    }
    checkNearby();
  });

  // --- photos: resized before upload ------------------------------------------------------------
  var input = $("id_photos");
  var list = $("photo-list");
  var photoStatus = $("photo-status");

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return createImageBitmap(file);
      });
    }
    return new Promise(function (resolve, reject) {
      var img = new Image();
      var url = URL.createObjectURL(file);
      img.onload = function () {
        URL.revokeObjectURL(url);
        resolve(img);
      };
      img.onerror = function () {
        URL.revokeObjectURL(url);
        reject(new Error("decode"));
      };
      img.src = url;
    });
  }

  function toBlob(canvas, quality) {
    return new Promise(function (resolve) {
      canvas.toBlob(resolve, "image/jpeg", quality);
    });
  }

  function shrink(file) {
    return decode(file).then(function (image) {
      var w = image.width;
      var h = image.height;
      var scale = Math.min(1, MAX_EDGE / Math.max(w, h));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(h * scale));
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff"; // transparent PNG areas become white, not black, in JPEG
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) image.close();
      var qualities = [0.82, 0.72, 0.62, 0.52, 0.42];
      function attempt(i) {
        return toBlob(canvas, qualities[i]).then(function (blob) {
          if (blob && (blob.size <= MAX_BYTES || i === qualities.length - 1)) {
            if (blob.size > MAX_BYTES) {
              // Still too big at the lowest quality: halve the canvas once more.
              var half = document.createElement("canvas");
              half.width = Math.max(1, Math.round(canvas.width / 2));
              half.height = Math.max(1, Math.round(canvas.height / 2));
              half.getContext("2d").drawImage(canvas, 0, 0, half.width, half.height);
              return toBlob(half, 0.6);
            }
            return blob;
          }
          return attempt(i + 1);
        });
      }
      return attempt(0);
    });
  }

  function renderPhotos() {
    list.textContent = "";
    photos.forEach(function (photo, index) {
      var item = el("li", "photo");
      var img = el("img");
      img.src = photo.url;
      img.alt = photo.name;
      var remove = el("button", "photo-remove", "×");
      remove.type = "button";
      remove.setAttribute("aria-label", d.msgRemove);
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(photo.url);
        photos.splice(index, 1);
        renderPhotos();
      });
      item.setAttribute("data-bytes", String(photo.blob.size));
      item.appendChild(img);
      item.appendChild(el("span", "photo-size", Math.max(1, Math.round(photo.blob.size / 1024)) + " KB"));
      item.appendChild(remove);
      list.appendChild(item);
    });
  }

  input.addEventListener("change", function () {
    setError("photos", "");
    var files = Array.prototype.slice.call(input.files || []);
    input.value = ""; // the resized copies are sent, not the originals
    files.forEach(function (file) {
      if (photos.length + pending >= MAX_PHOTOS) {
        setError("photos", d.msgPhotoMax);
        return;
      }
      var heic = /\.(heic|heif)$/i.test(file.name);
      if (!TYPES.test(file.type) && !heic) {
        setError("photos", d.msgPhotoType);
        return;
      }
      if (file.size > MAX_UPLOAD) {
        setError("photos", d.msgPhotoBig);
        return;
      }
      pending += 1;
      photoStatus.textContent = d.msgPhotoBusy;
      shrink(file)
        .then(
          function (blob) {
            photos.push({ blob: blob, name: file.name.replace(/\.[^.]+$/, "") + ".jpg", url: URL.createObjectURL(blob) });
          },
          function () {
            // A HEIC photo the browser cannot decode: the server decodes and re-encodes it.
            photos.push({ blob: file, name: file.name, url: "" });
          }
        )
        .then(function () {
          pending -= 1;
          if (!pending) photoStatus.textContent = "";
          renderPhotos();
        });
    });
  });

  // --- location: the phone's position or a pin -----------------------------------------------------
  var latInput = field("lat");
  var lngInput = field("lng");
  var locStatus = $("loc-status");
  var map = null;
  var marker = null;

  function say(message, isError) {
    if (!locStatus) return;
    locStatus.textContent = message || "";
    locStatus.classList.toggle("is-error", Boolean(isError));
  }

  function setPoint(lat, lng) {
    latInput.value = lat.toFixed(6);
    lngInput.value = lng.toFixed(6);
    setError("location", "");
    if (map) {
      if (marker) {
        marker.setLatLng([lat, lng]);
      } else {
        marker = window.L.circleMarker([lat, lng], { radius: 9, color: "#b4232a", weight: 3, fillOpacity: 0.4 }).addTo(map);
      }
    }
    fetch(d.locateUrl + "?lat=" + lat + "&lng=" + lng, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) {
            setError("location", body.message || d.msgGeoFailed);
            say("");
            return;
          }
          var place = [body.community && body.community.name, body.estate && body.estate.name, body.grid && body.grid.name];
          say(d.msgLocated + place.filter(Boolean).join(" · "));
        });
      })
      .catch(function () {
        say(d.msgLocated + lat.toFixed(5) + ", " + lng.toFixed(5));
      });
    checkNearby();
  }

  var geoBtn = $("geo-btn");
  if (geoBtn) {
    geoBtn.addEventListener("click", function () {
      if (!navigator.geolocation) {
        say(d.msgNoGeo, true);
        return;
      }
      say(d.msgLocating);
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          setPoint(pos.coords.latitude, pos.coords.longitude);
          if (map) map.setView([pos.coords.latitude, pos.coords.longitude], 17);
        },
        function (err) {
          say(err && err.code === 1 ? d.msgGeoDenied : d.msgGeoFailed, true);
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  function loadLeaflet() {
    if (window.L) return Promise.resolve(window.L);
    return new Promise(function (resolve, reject) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = d.leafletCss;
      document.head.appendChild(css);
      var script = document.createElement("script");
      script.src = d.leafletJs;
      script.onload = function () {
        resolve(window.L);
      };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  var pinBtn = $("pin-btn");
  if (pinBtn) {
    pinBtn.addEventListener("click", function () {
      var box = $("pin-map");
      box.hidden = false;
      if (map) {
        map.invalidateSize();
        return;
      }
      say(d.msgPinHint);
      loadLeaflet().then(
        function (L) {
          map = L.map(box, { zoomSnap: 0.5, maxZoom: 19 });
          map.attributionControl.setPrefix("Leaflet");
          var bbox = (d.bbox || "").split(",").map(Number);
          if (latInput.value) {
            map.setView([Number(latInput.value), Number(lngInput.value)], 17);
          } else if (bbox.length === 4 && bbox.every(isFinite)) {
            map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
          } else {
            map.setView([35, 105], 4);
          }
          fetch(d.communityUrl, { credentials: "same-origin" })
            .then(function (r) {
              return r.ok ? r.json() : null;
            })
            .then(function (layer) {
              if (layer) {
                L.geoJSON(layer, {
                  style: { color: "#b45309", weight: 1.5, fillColor: "#fef3c7", fillOpacity: 0.5 },
                  onEachFeature: function (feature, shape) {
                    shape.bindTooltip(String(feature.properties.name || ""), { sticky: true });
                  },
                }).addTo(map);
              }
            })
            .catch(function () {});
          map.on("click", function (e) {
            setPoint(e.latlng.lat, e.latlng.lng);
          });
          if (latInput.value) setPoint(Number(latInput.value), Number(lngInput.value));
        },
        function () {
          box.hidden = true;
          say(d.msgMapFailed, true);
        }
      );
    });
  }

  // --- "me too": nearby open cases of the same category ---------------------------------------------
  var nearbyBox = $("nearby");

  function point() {
    if (latInput.value && lngInput.value) return [latInput.value, lngInput.value];
    if (d.buildingLat) return [d.buildingLat, d.buildingLng];
    return null;
  }

  function renderNearby(rows) {
    nearbyBox.textContent = "";
    nearbyShown = rows.length > 0;
    nearbyBox.hidden = !nearbyShown;
    if (!nearbyShown) return;
    nearbyBox.appendChild(el("p", "nearby-title", d.msgNearbyTitle));
    var ul = el("ul", "nearby-list");
    rows.forEach(function (row) {
      var li = el("li");
      var text = el("span");
      text.appendChild(el("strong", "", row.category));
      text.appendChild(
        document.createTextNode(
          " · " + row.status + " · " +
            (row.distance_m === null || row.distance_m === undefined ? d.msgSameCommunity : row.distance_m + d.msgMeters) +
            " · " + row.followers + d.msgFollowers
        )
      );
      text.appendChild(el("br"));
      text.appendChild(el("span", "muted small", row.number + " · " + row.created));
      li.appendChild(text);
      if (row.own) {
        li.appendChild(el("span", "muted small", d.msgOwn));
      } else if (row.following) {
        li.appendChild(el("span", "followed", d.msgFollowed));
      } else {
        var btn = el("button", "btn btn-secondary", d.msgMeToo);
        btn.type = "button";
        btn.addEventListener("click", function () {
          follow(row, btn, li);
        });
        li.appendChild(btn);
      }
      ul.appendChild(li);
    });
    nearbyBox.appendChild(ul);
    nearbyBox.appendChild(el("p", "muted small", d.msgNearbyHint));
  }

  function follow(row, btn, li) {
    btn.disabled = true;
    fetch(row.follow_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    })
      .then(function (r) {
        return r.json().then(function (body) {
          if (r.ok) {
            btn.replaceWith(el("span", "followed", d.msgFollowed));
          } else if (r.status === 401) {
            var note = el("span", "small", d.msgLoginToFollow);
            var a = el("a", "", d.msgLogin);
            a.href = d.loginUrl;
            note.appendChild(a);
            btn.replaceWith(note);
          } else {
            btn.disabled = false;
            li.appendChild(el("span", "field-error", body.message || d.msgFailed));
          }
        });
      })
      .catch(function () {
        btn.disabled = false;
        status(d.msgNetwork);
      });
  }

  function checkNearby() {
    var p = point();
    if (!p || !category.value) return;
    var query = "lat=" + p[0] + "&lng=" + p[1] + "&category=" + category.value;
    if (query === lastNearbyQuery) return;
    lastNearbyQuery = query;
    fetch(d.nearbyUrl + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.ok ? r.json() : { nearby: [] };
      })
      .then(function (body) {
        renderNearby(body.nearby || []);
      })
      .catch(function () {});
  }

  // --- submit: fetch, keep everything on failure, same key on retry ----------------------------------
  var submitBtn = $("submit-btn");
  var sending = false;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sending || pending) return;
    clearErrors();
    if (nearbyShown) {
      field("confirm_new").value = "1"; // the resident saw the nearby cases and files anyway
    }
    var data = new FormData(form);
    data.delete("photos");
    photos.forEach(function (photo) {
      data.append("photos", photo.blob, photo.name);
    });
    sending = true;
    submitBtn.disabled = true;
    status(d.msgSending);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller
      ? setTimeout(function () {
          controller.abort();
        }, 90000)
      : null;
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (r) {
        return r.json().then(
          function (body) {
            return { status: r.status, body: body };
          },
          function () {
            return { status: r.status, body: { message: d.msgFailed } };
          }
        );
      })
      .then(function (answer) {
        var body = answer.body;
        if (body.ok && body.redirect) {
          window.location.assign(body.redirect);
          return;
        }
        if (body.code === "similar_nearby") {
          renderNearby(body.nearby || []);
          status(body.message);
          nearbyBox.scrollIntoView({ behavior: "smooth", block: "start" });
          return;
        }
        if (body.code === "idempotency_key_reused" && body.idempotency_key) {
          // Sent before with other words: the next press files this text as a new case.
          field("idempotency_key").value = body.idempotency_key;
        }
        var errors = body.errors || {};
        var shown = false;
        Object.keys(errors).forEach(function (name) {
          if (!setError(name, errors[name].join(" "))) {
            errors[name].forEach(showFormError);
          }
          shown = true;
        });
        if (!shown) showFormError(body.message || d.msgFailed);
        status("");
        var first = form.querySelector(".has-error, #form-errors:not([hidden])");
        if (first) first.scrollIntoView({ behavior: "smooth", block: "center" });
      })
      .catch(function () {
        status(d.msgNetwork);
      })
      .then(function () {
        if (timer) clearTimeout(timer);
        sending = false;
        submitBtn.disabled = false;
      });
  });

  if (d.buildingLat) checkNearby();
})();
