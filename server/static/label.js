"use strict";
// The labeling page: one image at a time, classes on buttons and keys, the next images
// leased and decoded ahead so that a keypress shows the next one at once. G switches to grid
// labeling (grid.js): pages of images the model puts in one class, confirmed at once; the
// images marked as not belonging, and each grid's blind slice, then come one at a time.
(function () {
  const api = labelerApi;
  const app = document.getElementById("label-app");
  const classNames = JSON.parse(app.dataset.classes);
  const stage = document.getElementById("stage");
  const empty = document.getElementById("empty");
  const guess = document.getElementById("guess");
  const reviewBadge = document.getElementById("review-badge");
  const message = document.getElementById("message");
  const showGuess = document.getElementById("show-guess");
  const gridBox = document.getElementById("grid-box");
  const gridEnabled = JSON.parse(app.dataset.gridEnabled);
  const AHEAD = 2; // images ready beyond the one shown
  const MAX_LABEL_SECONDS = 300; // longer gaps are breaks, not labeling time
  const MAX_TASKS_PER_CALL = 10; // the server's MAX_TASKS_PER_CALL

  let shown = document.getElementById("image");
  let current = null; // {task, image}
  const ahead = [];
  const handled = new Set(); // sample ids labeled or skipped here, maybe not yet answered
  let pending = Promise.resolve(); // state-changing calls, in order
  let refilling = false;
  let queueCount = null;
  let gridMode = false;
  let singles = []; // in grid mode: the blind slice and marked images, one at a time
  const waiting = () => (gridMode ? singles : ahead);
  const labelTimes = [];
  // Keypress-to-painted times in ms, read by the browser benchmark.
  window.labelerTimings = [];

  const keyToLabel = makeKeyMap(classNames);
  for (const button of document.querySelectorAll(".class-button")) {
    const key = Object.keys(keyToLabel).find((k) => keyToLabel[k] === button.dataset.label);
    button.querySelector("kbd").textContent = key || "";
    button.addEventListener("click", () => {
      button.blur(); // else Space, the skip key, would also press this button again
      label(button.dataset.label, performance.now());
    });
  }
  const actions = [
    ["skip-button", () => skip(performance.now())],
    ["undo-button", () => undo()],
    ["grid-button", () => setGridMode(!gridMode)],
    ["grid-confirm", () => grid.confirm()],
  ];
  for (const [id, action] of actions) {
    const button = document.getElementById(id);
    button.addEventListener("click", () => { button.blur(); action(); });
  }
  const grid = labelerGrid.create({
    api,
    root: document.getElementById("grid"),
    title: document.getElementById("grid-title"),
    say,
    onSingles(tasks) {
      singles = tasks.map(prepare);
      showNext(null);
    },
    onEmpty(label, error) {
      if (error || !label) {
        setGridMode(false);
      } else {
        say("No images left that the model puts in " + label + ": press another class's key, " +
          "or G for one at a time.", false);
      }
    },
  });
  showGuess.checked = localStorage.getItem("labeler.showGuess") === "1";
  showGuess.addEventListener("change", () => {
    localStorage.setItem("labeler.showGuess", showGuess.checked ? "1" : "0");
    renderGuess();
  });
  document.addEventListener("keydown", onKey);

  // Digits 1..9 by position, and a class's first letter where no other class shares it.
  function makeKeyMap(names) {
    const map = {};
    names.slice(0, 9).forEach((name, index) => { map[String(index + 1)] = name; });
    const firsts = {};
    for (const name of names) {
      const first = name.charAt(0).toLowerCase();
      firsts[first] = (firsts[first] || 0) + 1;
    }
    for (const name of names) {
      const first = name.charAt(0).toLowerCase();
      // g is the grid's key where grid labeling is on.
      const reserved = gridEnabled && first === "g";
      if (firsts[first] === 1 && /[a-z]/.test(first) && !(first in map) && !reserved) map[first] = name;
    }
    return map;
  }

  function onKey(event) {
    // Typing in a field is not labeling; a checkbox with focus is no reason to ignore keys.
    const target = event.target;
    if (target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
    if (target instanceof HTMLInputElement && target.type !== "checkbox") return;
    const started = performance.now();
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
      event.preventDefault();
      undo();
    } else if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    } else if (gridEnabled && event.key.toLowerCase() === "g") {
      event.preventDefault();
      setGridMode(!gridMode);
    } else if (gridMode && !current && grid.handleKey(event, keyToLabel)) {
      return;
    } else if (event.key === "Backspace") {
      event.preventDefault();
      undo();
    } else if (event.key === " ") {
      event.preventDefault();
      skip(started);
    } else if (event.key.toLowerCase() in keyToLabel) {
      event.preventDefault();
      label(keyToLabel[event.key.toLowerCase()], started);
    }
  }

  function prepare(task) {
    const image = new Image();
    image.className = "sample-image";
    image.alt = "image " + task.sample_id + " to label";
    image.dataset.sampleId = String(task.sample_id);
    image.src = task.image_url;
    const entry = { task, image, ready: image.decode().catch(() => undefined) };
    return entry;
  }

  function isKnown(sampleId) {
    return handled.has(sampleId) || (current && current.task.sample_id === sampleId)
      || ahead.some((entry) => entry.task.sample_id === sampleId);
  }

  async function refill() {
    if (refilling || gridMode) return;
    refilling = true;
    try {
      // Own leases come back first: ask for enough to cover those not yet answered.
      const n = Math.min(MAX_TASKS_PER_CALL, AHEAD + 1 + pendingCount());
      const data = await api.get("/api/next?n=" + n);
      queueCount = data.queue.waiting + data.queue.leased;
      for (const task of data.tasks) {
        if (!isKnown(task.sample_id)) ahead.push(prepare(task));
      }
      if (!current) showNext(null);
      renderProgress();
    } catch (error) {
      say("Could not fetch images: " + error.message, true);
    } finally {
      refilling = false;
    }
  }

  let nPending = 0;
  function pendingCount() { return nPending; }

  function showNext(started) {
    current = waiting().shift() || null;
    if (gridMode && !current) {
      showGrid(true);
      grid.load();
      return;
    }
    display(started);
  }

  // Grid mode shows the grid, except while a single image of it is being labeled.
  function showGrid(visible) {
    gridBox.hidden = !visible;
    stage.hidden = visible;
    document.getElementById("buttons").hidden = visible;
    document.getElementById("grid-confirm").hidden = !visible;
    document.getElementById("skip-button").hidden = visible; // Space marks a tile there
    if (visible) { guess.hidden = true; reviewBadge.hidden = true; }
  }

  function setGridMode(on) {
    if (on === gridMode || (on && !gridEnabled)) return;
    // Images in hand go back to the other mode's list; their leases stay this annotator's.
    const inHand = (current ? [current] : []).concat(waiting());
    current = null;
    gridMode = on;
    // Reviews in hand are answered first in grid mode too; new images come back as grids.
    if (on) singles = inHand.filter((entry) => ["blind", "review"].includes(entry.task.kind));
    else ahead.unshift(...inHand);
    document.getElementById("grid-button").setAttribute("aria-pressed", on ? "true" : "false");
    say(on ? "Grid: click or Space marks an image that does not belong; Enter confirms the rest." : "", false);
    if (!on) showGrid(false);
    showNext(null);
    if (!on) refill();
  }

  function display(started) {
    if (gridMode) showGrid(false);
    if (!current) {
      shown.hidden = true;
      empty.hidden = false;
      guess.hidden = true;
      reviewBadge.hidden = true;
      return;
    }
    reviewBadge.hidden = current.task.kind !== "review";
    empty.hidden = true;
    current.image.hidden = false;
    stage.replaceChild(current.image, shown);
    shown = current.image;
    renderGuess();
    if (started !== null) {
      const sampleId = current.task.sample_id;
      // The frame after the next animation frame callback is the one that shows the image.
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          window.labelerTimings.push({ sampleId, ms: performance.now() - started });
        };
        channel.port2.postMessage(null);
      });
    }
  }

  function renderGuess() {
    const g = current && current.task.kind !== "blind" && current.task.guess;
    guess.hidden = !(showGuess.checked && g);
    if (g) guess.textContent = "Model's guess: " + g.label + " (" + Math.round(g.confidence * 100) + "%)";
  }

  function renderProgress() {
    document.getElementById("n-session").textContent = String(labelTimes.length);
    if (queueCount !== null) document.getElementById("n-queue").textContent = String(queueCount);
    const gaps = [];
    for (let i = 1; i < labelTimes.length; i += 1) {
      const gap = (labelTimes[i] - labelTimes[i - 1]) / 1000;
      if (gap <= MAX_LABEL_SECONDS) gaps.push(gap);
    }
    gaps.sort((a, b) => a - b);
    const pace = gaps.length ? gaps[Math.floor(gaps.length / 2)] : null;
    document.getElementById("pace").textContent = pace === null ? "–" : pace.toFixed(1);
  }

  function say(text, warn) {
    message.textContent = text;
    message.classList.toggle("warn", Boolean(warn));
  }

  // Run state-changing calls one after another, so that an undo follows the labels before it.
  function inOrder(call) {
    nPending += 1;
    pending = pending.then(call).catch((error) => say(error.message, true)).finally(() => {
      nPending -= 1;
      refill();
    });
    return pending;
  }

  function label(name, started) {
    if (!current) return;
    const sampleId = current.task.sample_id;
    handled.add(sampleId);
    labelTimes.push(Date.now());
    const body = { sample_id: sampleId, label: name, request_id: api.newRequestId() };
    if (current.task.kind === "blind") body.blind = true;
    showNext(started);
    renderProgress();
    inOrder(async () => {
      const answer = await api.post("/api/labels", body);
      say(answer.lease === "held" ? "" : "Sample " + sampleId + ": " + answer.message, answer.lease !== "held");
    });
  }

  function skip(started) {
    if (!current) return;
    const sampleId = current.task.sample_id;
    handled.add(sampleId);
    showNext(started);
    const body = { sample_id: sampleId, request_id: api.newRequestId() };
    inOrder(async () => {
      await api.post("/api/skip", body);
      say("Skipped sample " + sampleId + ".", false);
    });
  }

  function undo() {
    const body = { request_id: api.newRequestId() };
    inOrder(async () => {
      const answer = await api.post("/api/undo", body);
      if (!answer.undone) {
        say("Nothing to undo.", false);
        return;
      }
      labelTimes.pop();
      handled.delete(answer.undone.sample_id);
      if (answer.undone.grid) {
        // A whole grid came back: show it again (its images are leased to this annotator).
        for (const sample of answer.undone.grid) handled.delete(sample);
        if (gridMode && !current) grid.load(answer.undone.label);
        say("Undid the grid of " + answer.undone.grid.length + " images labeled " + answer.undone.label + ".", false);
        return;
      }
      if (answer.task) {
        const list = waiting();
        if (current) list.unshift(current);
        const index = list.findIndex((entry) => entry.task.sample_id === answer.task.sample_id);
        if (index >= 0) list.splice(index, 1);
        current = prepare(answer.task);
        await current.ready;
        display(null);
      }
      renderProgress();
      say("Undid " + answer.undone.label + " on sample " + answer.undone.sample_id + ".", false);
    });
  }

  // Images selected with the dashboard map's lasso open here as grids.
  if (window.location.hash === "#lasso") {
    const ids = JSON.parse(sessionStorage.getItem("labeler.lasso") || "[]");
    sessionStorage.removeItem("labeler.lasso");
    history.replaceState(null, "", window.location.pathname);
    if (!gridEnabled) say("Grid labeling is turned off for this project; the images selected on the map come one at a time in queue order.", true);
    else if (ids.length) { grid.setLasso(ids); setGridMode(true); }
  }
  refill();
  // An empty queue is looked at again now and then: a round may have filled it.
  setInterval(() => { if (!gridMode && (!current || ahead.length < AHEAD)) refill(); }, 5000);
})();
