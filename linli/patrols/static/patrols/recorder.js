/* The patrol recorder (grid worker's phone): start, record GPS fixes, upload them in batches, end, and
 * report problems found on the way. Works offline: the patrol and every fix live in localStorage until
 * the server has acknowledged them, and every request is safe to replay (the start carries the phone's
 * client_key, each fix its sequence number, each problem report an idempotency key). URLs and texts come
 * from data-* attributes on #recorder. Plain ES5-style JS, no build step, no inline script (strict CSP). */
(function () {
  "use strict";

  var root = document.getElementById("recorder");
  if (!root) {
    return;
  }
  var d = root.dataset;
  var KEY = "linli.patrol.v1." + d.user;
  var BATCH = 100; // fixes per upload (the server takes up to 500)
  // One fix every 5 s is plenty on foot and keeps the buffer small (data-min-interval-ms overrides it).
  function minInterval() {
    return Number(d.minIntervalMs) || 5000;
  }
  var RETRY_MS = 15000;

  function $(id) {
    return document.getElementById(id);
  }
  var statusEl = $("patrol-status");
  var startBtn = $("patrol-start");
  var endBtn = $("patrol-end");
  var form = $("problem-form");
  var problemStatus = $("problem-status");
  var gridSel = $("patrol-grid");

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(KEY)) || null;
    } catch (e) {
      return null;
    }
  }
  var state = load();

  function save() {
    try {
      if (state) {
        window.localStorage.setItem(KEY, JSON.stringify(state));
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (e) {
      /* storage full or disabled: keep going in memory */
    }
  }

  function say(text, isError, el) {
    var target = el || statusEl;
    target.textContent = text || "";
    target.classList.toggle("is-error", Boolean(isError));
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += ("0" + bytes[i].toString(16)).slice(-2);
    }
    return out;
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Resolves {status, body} for any HTTP answer; rejects only when the network failed.
  function send(url, body, headers) {
    var h = { Accept: "application/json", "X-CSRFToken": csrf() };
    var payload = body;
    if (!(body instanceof FormData)) {
      h["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    Object.keys(headers || {}).forEach(function (k) {
      h[k] = headers[k];
    });
    return fetch(url, { method: "POST", credentials: "same-origin", headers: h, body: payload }).then(function (r) {
      return r.json().then(
        function (json) {
          return { status: r.status, body: json };
        },
        function () {
          return { status: r.status, body: {} };
        }
      );
    });
  }

  // --- screen ---------------------------------------------------------------------------------
  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function render() {
    if (state && state.id && String(state.id) === d.activeId) {
      d.activeId = ""; // the server's open patrol is this phone's own
    }
    var running = Boolean(state && !state.endedAt);
    startBtn.hidden = Boolean(state) || Boolean(d.activeId);
    endBtn.hidden = !running && !d.activeId;
    form.hidden = !running;
    if (gridSel) {
      gridSel.disabled = Boolean(state);
    }
    $("stat-points").textContent = state ? String(state.points) : "0";
    $("stat-pending").textContent = state ? String(state.pending.length) : "0";
    var started = state ? state.startedAt : d.activeStarted ? Number(d.activeStarted) * 1000 : 0;
    if (started) {
      var s = Math.max(0, Math.floor((((state && state.endedAt) || Date.now()) - started) / 1000));
      $("stat-time").textContent = pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
    }
  }

  // --- GPS ------------------------------------------------------------------------------------
  var watchId = null;
  var wakeLock = null;

  function keepAwake() {
    if (navigator.wakeLock && state && !state.endedAt) {
      navigator.wakeLock.request("screen").then(
        function (lock) {
          wakeLock = lock;
        },
        function () {}
      );
    }
  }

  function onFix(pos) {
    if (!state || state.endedAt) {
      return;
    }
    var t = Math.round(pos.timestamp || Date.now());
    if (state.lastFix && t - state.lastFix.t < minInterval()) {
      return;
    }
    var fix = {
      seq: state.nextSeq,
      t: t,
      lat: pos.coords.latitude,
      lng: pos.coords.longitude,
      accuracy: typeof pos.coords.accuracy === "number" ? Math.round(pos.coords.accuracy * 10) / 10 : null,
    };
    state.nextSeq += 1;
    state.points += 1;
    state.pending.push(fix);
    state.lastFix = fix;
    save();
    render();
    if (!statusEl.classList.contains("is-error")) {
      say(d.msgRunning);
    }
    if (state.pending.length >= 20) {
      sync();
    }
  }

  function onGeoError(err) {
    say(err.code === 1 ? d.msgGeoDenied : d.msgGeoFailed, true);
  }

  function startWatch() {
    if (!navigator.geolocation) {
      say(d.msgNoGeo, true);
      return false;
    }
    if (watchId === null) {
      watchId = navigator.geolocation.watchPosition(onFix, onGeoError, {
        enableHighAccuracy: true,
        maximumAge: 5000,
        timeout: 20000,
      });
    }
    return true;
  }

  function stopWatch() {
    if (watchId !== null) {
      navigator.geolocation.clearWatch(watchId);
      watchId = null;
    }
    if (wakeLock) {
      wakeLock.release().catch(function () {});
      wakeLock = null;
    }
  }

  // --- the sync loop: start → points → end, in that order, one request at a time ------------------
  var busy = false;

  function giveUp(message) {
    // The server refused for good (patrol gone, start too old): nothing to retry; forget the buffer.
    stopWatch();
    state = null;
    save();
    say(message, true);
  }

  function ensureStarted() {
    var body = { client_key: state.clientKey, started_at_ms: state.startedAt };
    if (state.gridId) {
      body.grid_id = Number(state.gridId);
    }
    if (state.lastFix) {
      body.lat = state.lastFix.lat;
      body.lng = state.lastFix.lng;
    }
    return send(d.api, body).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        state.id = r.body.id;
        save();
        return true;
      }
      if (r.status === 401) {
        say(r.body.message || "", true);
        return false;
      }
      if (r.status >= 400 && r.status < 500) {
        giveUp(r.body.message || "");
        return false;
      }
      throw new Error("server");
    });
  }

  function uploadBatch() {
    var batch = state.pending.slice(0, BATCH);
    return send(d.api + state.id + "/points", { points: batch }).then(function (r) {
      if (r.status === 200 || r.status === 400 || r.status === 422) {
        // Stored, or malformed beyond repair: either way these fixes are done with.
        var done = {};
        batch.forEach(function (p) {
          done[p.seq] = true;
        });
        state.pending = state.pending.filter(function (p) {
          return !done[p.seq];
        });
        save();
        return true;
      }
      if (r.status === 404 || r.status === 409) {
        giveUp(r.body.message || "");
        return false;
      }
      if (r.status === 401 || r.status === 403) {
        say(r.body.message || "", true);
        return false;
      }
      throw new Error("server");
    });
  }

  function sendEnd() {
    return send(d.api + state.id + "/end", { ended_at_ms: state.endedAt }).then(function (r) {
      if (r.status === 200 || r.status === 404) {
        if (String(state.id) === d.activeId) {
          d.activeId = "";
        }
        state = null;
        save();
        say(d.msgEnded);
        return false;
      }
      if (r.status >= 400 && r.status < 500) {
        say(r.body.message || "", true);
        return false;
      }
      throw new Error("server");
    });
  }

  function step() {
    if (!state) {
      return Promise.resolve(false);
    }
    if (!state.id) {
      return ensureStarted().then(function (ok) {
        return ok ? step() : false;
      });
    }
    if (state.pending.length) {
      return uploadBatch().then(function (ok) {
        return ok ? step() : false;
      });
    }
    if (state.endedAt) {
      return sendEnd();
    }
    return Promise.resolve(true);
  }

  function sync() {
    if (busy || !state) {
      return;
    }
    busy = true;
    step().then(
      function () {
        busy = false;
        render();
      },
      function () {
        busy = false;
        say(d.msgOffline, true);
        render();
      }
    );
  }

  // --- buttons ----------------------------------------------------------------------------------
  startBtn.addEventListener("click", function () {
    if (state) {
      return;
    }
    if (!navigator.geolocation) {
      say(d.msgNoGeo, true);
      return;
    }
    state = {
      clientKey: "p-" + randomKey(),
      id: null,
      gridId: gridSel ? gridSel.value : "",
      startedAt: Date.now(),
      endedAt: null,
      nextSeq: 0,
      points: 0,
      pending: [],
      lastFix: null,
    };
    save();
    startWatch();
    keepAwake();
    say(d.msgRunning);
    render();
    sync();
  });

  endBtn.addEventListener("click", function () {
    if (!window.confirm(d.msgConfirmEnd)) {
      return;
    }
    if (!state && d.activeId) {
      // A patrol started on another device or page: end it on the server as it stands.
      send(d.api + d.activeId + "/end", {}).then(
        function (r) {
          d.activeId = "";
          say(r.status === 200 ? d.msgEnded : r.body.message || "", r.status !== 200);
          render();
        },
        function () {
          say(d.msgOffline, true);
        }
      );
      return;
    }
    if (!state) {
      return;
    }
    state.endedAt = Date.now();
    stopWatch();
    save();
    say(d.msgEnding);
    render();
    sync();
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!state || !state.id) {
      say(d.msgNeedPatrol, true, problemStatus);
      return;
    }
    if (!state.lastFix) {
      say(d.msgNeedLocation, true, problemStatus);
      return;
    }
    // One key per report, kept until the server answers: a retry after a lost answer files nothing new.
    if (!form.dataset.key) {
      form.dataset.key = "pr-" + randomKey();
    }
    var fd = new FormData();
    fd.append("text", $("problem-text").value);
    if ($("problem-category").value) {
      fd.append("category_id", $("problem-category").value);
    }
    fd.append("lat", String(state.lastFix.lat));
    fd.append("lng", String(state.lastFix.lng));
    fd.append("idempotency_key", form.dataset.key);
    var photo = $("problem-photo").files[0];
    if (photo) {
      fd.append("photos", photo);
    }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    send(d.api + state.id + "/problems", fd, { "Idempotency-Key": form.dataset.key }).then(
      function (r) {
        button.disabled = false;
        if (r.status === 200 || r.status === 201) {
          say(d.msgReported + r.body.number, false, problemStatus);
          form.reset();
          delete form.dataset.key;
        } else {
          say(d.msgReportFailed + (r.body.message || r.status), true, problemStatus);
        }
      },
      function () {
        button.disabled = false;
        say(d.msgOffline, true, problemStatus);
      }
    );
  });

  // --- resume -------------------------------------------------------------------------------------
  if (state && !state.endedAt) {
    startWatch();
    keepAwake();
    say(d.msgRunning);
  } else if (state && state.endedAt) {
    say(d.msgEnding);
  } else if (d.activeId) {
    say(d.msgOtherDevice, true);
  }
  render();
  sync();
  window.setInterval(sync, RETRY_MS);
  window.setInterval(render, 1000);
  window.addEventListener("online", sync);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      keepAwake();
      sync();
    }
  });
})();
