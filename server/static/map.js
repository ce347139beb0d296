"use strict";
// The dashboard's map of the pool: every pool image as a point of the cached 2-D layout,
// coloured by label, the model's guess or its acquisition score, drawn pixel by pixel into
// one canvas (100,000 points in a few milliseconds). Drag pans, the wheel zooms, hovering
// shows the image, a click opens it beside the map; the lasso (its button, or Shift+drag)
// selects a region, whose unlabeled images open as a grid to label or go first in the queue.
const labelerMap = (function () {
  const PALETTE = [0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2,
    0x17becf, 0xbcbd22, 0x7f7f7f, 0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5,
    0xc49c94, 0xf7b6d2, 0x9edae5, 0xdbdb8d, 0x393b79];
  const NONE = 0xd0d4db; // unlabeled, no guess or no score
  const STOP_SET = 0xff00ff; // the stop meter's images, never queued
  const HIT_PX = 6; // how near the pointer a point must be to count as hovered
  const CELLS = 128; // hover index: CELLS x CELLS buckets over the unit square
  const MAX_QUEUE = 10000; // the server's MAX_QUEUE_IDS

  // Colours as the canvas's little-endian RGBA words.
  const toWord = (rgb) => (0xff000000 | ((rgb & 0xff) << 16) | (rgb & 0xff00) | (rgb >> 16)) >>> 0;
  const toCss = (rgb) => "#" + rgb.toString(16).padStart(6, "0");

  function create({ api, isAdmin }) {
    const canvas = document.getElementById("map-canvas");
    const context = canvas.getContext("2d");
    const status = document.getElementById("map-status");
    const tip = document.getElementById("map-tip");
    const colourBy = document.getElementById("map-colour");
    const showMarks = document.getElementById("map-marks");
    const lassoButton = document.getElementById("map-lasso");
    const selectionBar = document.getElementById("map-selection");
    const preview = document.getElementById("map-preview");
    let data = null; // the /api/map answer, with typed arrays added
    let view = { scale: 1, x: 0, y: 0 }; // screen = (unit * side) * scale + (x, y)
    let side = 1; // px of the unit square at scale 1
    let drag = null; // {kind: "pan" | "lasso", start, last, path}
    let selected = [];
    let dirty = false; // a frame is requested
    let words = new Uint32Array(0); // each point's colour, as a canvas word
    let lastRound;
    // Frame times while the view moves, in ms, read by the map benchmark.
    window.labelerMapFrames = [];

    colourBy.addEventListener("change", () => { paint(); renderLegend(); redraw(); });
    showMarks.addEventListener("change", redraw);
    lassoButton.addEventListener("click", () => {
      lassoButton.setAttribute("aria-pressed", lassoButton.getAttribute("aria-pressed") === "true" ? "false" : "true");
    });
    document.getElementById("map-reset").addEventListener("click", () => { resetView(); redraw(); });
    document.getElementById("map-grid").addEventListener("click", labelSelection);
    const queueButton = document.getElementById("map-queue");
    if (isAdmin) queueButton.addEventListener("click", queueSelection);
    else queueButton.hidden = true;
    canvas.addEventListener("pointerdown", onDown);
    canvas.addEventListener("pointermove", onMove);
    canvas.addEventListener("pointerup", onUp);
    canvas.addEventListener("pointerleave", () => { tip.hidden = true; });
    canvas.addEventListener("wheel", onWheel, { passive: false });
    window.addEventListener("resize", () => { resize(); redraw(); });

    async function load() {
      let answer;
      try {
        answer = await api.get("/api/map");
      } catch (error) {
        status.textContent = "Could not fetch the map: " + error.message;
        return;
      }
      if (answer.status !== "ready") {
        status.textContent = answer.message + (answer.job && answer.job.last_line ? " (" + answer.job.last_line + ")" : "");
        canvas.hidden = true;
        if (answer.status === "making") setTimeout(load, 3000);
        return;
      }
      canvas.hidden = false;
      const info = answer.info;
      status.textContent = answer.ids.length + " pool images, laid out by " + info.method +
        " from the " + info.embedding + " embedding" + (answer.job && answer.job.state === "running"
          ? "; a newer map is being made" : "") + ".";
      const n = answer.ids.length;
      data = {
        ...answer,
        xs: Float32Array.from(answer.x, (v) => v / answer.scale),
        ys: Float32Array.from(answer.y, (v) => v / answer.scale),
        marks: new Map(answer.suspects.map((id) => [id, 0xd62728])),
      };
      for (const id of answer.queued) if (!data.marks.has(id)) data.marks.set(id, 0x111111);
      for (const id of answer.stop_set) if (!data.marks.has(id)) data.marks.set(id, STOP_SET);
      data.index = buildIndex(data.xs, data.ys, n);
      data.row = new Map(answer.ids.map((id, row) => [id, row]));
      selected = [];
      selectionBar.hidden = true;
      if (answer.job && answer.job.state === "running") setTimeout(load, 3000);
      resize();
      paint();
      renderLegend();
      redraw();
    }

    // Reload when a new round has finished (new guesses and scores), or on first call.
    function refreshIfRound(roundId) {
      if (roundId === lastRound) return;
      lastRound = roundId;
      load();
    }

    function resize() {
      const ratio = window.devicePixelRatio || 1;
      const width = canvas.clientWidth || 600;
      const height = canvas.clientHeight || 480;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      const previous = side;
      side = Math.min(canvas.width, canvas.height) * 0.94;
      if (previous === 1) resetView();
    }

    function resetView() {
      view = { scale: 1, x: (canvas.width - side) / 2, y: (canvas.height - side) / 2 };
    }

    function colourOf(row) {
      const by = colourBy.value;
      if (by === "score") {
        const s = data.score[row];
        if (s < 0) return NONE;
        // Light yellow (0) to dark red (1).
        const r = 255 - Math.round(80 * s);
        const g = Math.round(230 * (1 - s));
        const b = Math.round(120 * (1 - s));
        return (r << 16) | (g << 8) | b;
      }
      const value = by === "guess" ? data.guess[row] : data.label[row];
      return value < 0 ? NONE : PALETTE[value % PALETTE.length];
    }

    function paint() {
      words = new Uint32Array(data.ids.length);
      for (let row = 0; row < words.length; row += 1) words[row] = toWord(colourOf(row));
    }

    function redraw() {
      if (!dirty) { dirty = true; requestAnimationFrame(draw); }
    }

    function draw(now) {
      dirty = false;
      if (!data) return;
      const started = performance.now();
      const width = canvas.width;
      const height = canvas.height;
      const image = context.createImageData(width, height);
      const pixels = new Uint32Array(image.data.buffer);
      pixels.fill(0xffffffff);
      const n = data.ids.length;
      const dot = n > 20000 ? 2 : n > 2000 ? 3 : 5;
      const half = dot >> 1;
      const scale = side * view.scale;
      const none = toWord(NONE);
      // Points without a colour first, so that the coloured ones stay on top.
      for (const pass of [0, 1]) {
        for (let row = 0; row < n; row += 1) {
          if ((words[row] === none) !== (pass === 0)) continue;
          const x = Math.round(data.xs[row] * scale + view.x) - half;
          const y = Math.round(data.ys[row] * scale + view.y) - half;
          if (x < 0 || y < 0 || x > width - dot || y > height - dot) continue;
          const word = words[row];
          for (let dy = 0; dy < dot; dy += 1) {
            const base = (y + dy) * width + x;
            for (let dx = 0; dx < dot; dx += 1) pixels[base + dx] = word;
          }
        }
      }
      context.putImageData(image, 0, 0);
      if (showMarks.checked) drawRings(data.marks, scale);
      if (selected.length) drawRings(new Map(selected.map((id) => [id, 0x000000])), scale);
      if (drag && drag.kind === "lasso") drawPath(drag.path);
      if (drag) window.labelerMapFrames.push({ draw: performance.now() - started, at: now });
    }

    function drawRings(marks, scale) {
      context.lineWidth = 1.5;
      for (const [id, rgb] of marks) {
        const row = data.row.get(id);
        if (row === undefined) continue;
        context.strokeStyle = toCss(rgb);
        context.strokeRect(data.xs[row] * scale + view.x - 4.5, data.ys[row] * scale + view.y - 4.5, 9, 9);
      }
    }

    function drawPath(path) {
      context.beginPath();
      path.forEach(([x, y], i) => (i ? context.lineTo(x, y) : context.moveTo(x, y)));
      context.closePath();
      context.fillStyle = "rgba(36, 87, 214, 0.12)";
      context.fill();
      context.strokeStyle = "#2457d6";
      context.lineWidth = 2;
      context.stroke();
    }

    function renderLegend() {
      const legend = document.getElementById("map-legend");
      if (!data) return legend.replaceChildren();
      const entries = colourBy.value === "score"
        ? [["most informative", 0xaf0000], ["least", 0xffe678], ["not scored", NONE]]
        : data.class_names.map((name, i) => [name, PALETTE[i % PALETTE.length]])
          .concat([[colourBy.value === "label" ? "unlabeled" : "no guess", NONE]]);
      if (showMarks.checked) {
        entries.push(["□ queued", 0x111111], ["□ suspect label", 0xd62728],
          ["□ stop set (never queued)", STOP_SET]);
      }
      legend.replaceChildren(...entries.map(([name, rgb]) => {
        const item = document.createElement("span");
        const swatch = document.createElement("i");
        swatch.style.background = toCss(rgb);
        item.append(swatch, name);
        return item;
      }));
    }

    function toCanvas(event) {
      const box = canvas.getBoundingClientRect();
      const ratio = canvas.width / box.width;
      return [(event.clientX - box.left) * ratio, (event.clientY - box.top) * ratio];
    }

    function onDown(event) {
      if (!data) return;
      try {
        canvas.setPointerCapture(event.pointerId); // the drag goes on outside the canvas
      } catch (error) {
        // A pointer the browser does not track (a synthetic event) cannot be captured.
      }
      const point = toCanvas(event);
      const lasso = event.shiftKey || lassoButton.getAttribute("aria-pressed") === "true";
      drag = { kind: lasso ? "lasso" : "pan", start: point, last: point, path: [point], moved: 0 };
      tip.hidden = true;
    }

    function onMove(event) {
      if (!data) return;
      const point = toCanvas(event);
      if (!drag) return hover(point, event);
      drag.moved += Math.abs(point[0] - drag.last[0]) + Math.abs(point[1] - drag.last[1]);
      if (drag.kind === "pan") {
        view.x += point[0] - drag.last[0];
        view.y += point[1] - drag.last[1];
      } else {
        drag.path.push(point);
      }
      drag.last = point;
      redraw();
    }

    function onUp(event) {
      if (!drag) return;
      const done = drag;
      drag = null;
      if (done.moved < 4) {
        const row = nearest(toCanvas(event));
        if (row !== null) open(row);
      } else if (done.kind === "lasso" && done.path.length > 2) {
        select(done.path);
      }
      redraw();
    }

    function onWheel(event) {
      if (!data) return;
      event.preventDefault();
      const [x, y] = toCanvas(event);
      const factor = Math.exp(-event.deltaY * 0.0015);
      const scale = Math.min(200, Math.max(0.5, view.scale * factor));
      const applied = scale / view.scale;
      view = { scale, x: x - (x - view.x) * applied, y: y - (y - view.y) * applied };
      redraw();
    }

    function buildIndex(xs, ys, n) {
      const cellOf = (row) => Math.min(CELLS - 1, Math.floor(ys[row] * CELLS)) * CELLS +
        Math.min(CELLS - 1, Math.floor(xs[row] * CELLS));
      const counts = new Int32Array(CELLS * CELLS + 1);
      for (let row = 0; row < n; row += 1) counts[cellOf(row) + 1] += 1;
      for (let c = 1; c < counts.length; c += 1) counts[c] += counts[c - 1];
      const fill = counts.slice(0, -1);
      const rows = new Int32Array(n);
      for (let row = 0; row < n; row += 1) rows[fill[cellOf(row)]++] = row;
      return { starts: counts, rows };
    }

    // The point nearest to a canvas position, within HIT_PX; null if none.
    function nearest([px, py]) {
      const scale = side * view.scale;
      const ux = (px - view.x) / scale;
      const uy = (py - view.y) / scale;
      const reach = (HIT_PX * (window.devicePixelRatio || 1)) / scale;
      const lo = (v) => Math.max(0, Math.floor((v - reach) * CELLS));
      const hi = (v) => Math.min(CELLS - 1, Math.floor((v + reach) * CELLS));
      let best = null;
      let bestDistance = reach * reach;
      for (let cy = lo(uy); cy <= hi(uy); cy += 1) {
        for (let cx = lo(ux); cx <= hi(ux); cx += 1) {
          const cell = cy * CELLS + cx;
          for (let k = data.index.starts[cell]; k < data.index.starts[cell + 1]; k += 1) {
            const row = data.index.rows[k];
            const d = (data.xs[row] - ux) ** 2 + (data.ys[row] - uy) ** 2;
            if (d <= bestDistance) { best = row; bestDistance = d; }
          }
        }
      }
      return best;
    }

    function describe(row) {
      const name = (value) => (value < 0 ? "–" : data.class_names[value]);
      return "sample " + data.ids[row] + " · label " + name(data.label[row]) + " · guess " +
        name(data.guess[row]) + (data.score[row] >= 0 ? " · score rank " + data.score[row].toFixed(2) : "");
    }

    function hover(point, event) {
      const row = nearest(point);
      if (row === null) { tip.hidden = true; return; }
      const image = document.createElement("img");
      image.src = "/api/images/" + data.ids[row] + ".png";
      image.alt = "sample " + data.ids[row];
      const text = document.createElement("span");
      text.textContent = describe(row);
      tip.replaceChildren(image, text);
      const box = canvas.parentElement.getBoundingClientRect();
      tip.style.left = (event.clientX - box.left + 14) + "px";
      tip.style.top = (event.clientY - box.top + 14) + "px";
      tip.hidden = false;
    }

    function open(row) {
      const image = preview.querySelector("img");
      image.src = "/api/images/" + data.ids[row] + ".png";
      image.alt = "sample " + data.ids[row];
      preview.querySelector("p").textContent = describe(row);
      preview.hidden = false;
    }

    function select(path) {
      const scale = side * view.scale;
      const xs = path.map((p) => p[0]);
      const ys = path.map((p) => p[1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      selected = [];
      for (let row = 0; row < data.ids.length; row += 1) {
        const x = data.xs[row] * scale + view.x;
        const y = data.ys[row] * scale + view.y;
        if (x < x0 || x > x1 || y < y0 || y > y1) continue;
        if (inside(path, x, y)) selected.push(data.ids[row]);
      }
      const unlabeled = selected.filter((id) => data.label[data.row.get(id)] < 0);
      document.getElementById("map-selected").textContent = selected.length + " selected, " +
        unlabeled.length + " unlabeled";
      selectionBar.hidden = selected.length === 0;
    }

    // Ray casting: whether (x, y) lies inside the closed path.
    function inside(path, x, y) {
      let result = false;
      for (let i = 0, j = path.length - 1; i < path.length; j = i, i += 1) {
        const [xi, yi] = path[i];
        const [xj, yj] = path[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) result = !result;
      }
      return result;
    }

    // The selection's unlabeled images, most confidently guessed first is the server's
    // business: the page takes them in chunks of one grid.
    function unlabeledSelection() {
      return selected.filter((id) => data.label[data.row.get(id)] < 0);
    }

    function labelSelection() {
      sessionStorage.setItem("labeler.lasso", JSON.stringify(unlabeledSelection()));
      window.location.assign("/#lasso");
    }

    async function queueSelection() {
      const ids = unlabeledSelection().slice(0, MAX_QUEUE);
      if (!ids.length) return;
      try {
        const answer = await api.post("/api/admin/queue", { sample_ids: ids });
        document.getElementById("map-selected").textContent = answer.queued + " put first in the queue";
      } catch (error) {
        document.getElementById("map-selected").textContent = error.message;
      }
    }

    return { load, refreshIfRound };
  }

  return { create };
})();
