"use strict";
// The dashboard: counts, queue, rounds with their learning curve, annotators, suspect labels
// and conflicts, refreshed every few seconds; admins can start a round.
(function () {
  const api = labelerApi;
  const root = document.getElementById("dashboard");
  const isAdmin = JSON.parse(root.dataset.admin);
  const SVG = "http://www.w3.org/2000/svg";
  const poolMap = labelerMap.create({ api, isAdmin });

  function fill(tableId, rows) {
    const body = document.querySelector("#" + tableId + " tbody");
    if (rows.length === 0) {
      const row = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = document.querySelectorAll("#" + tableId + " thead th").length;
      td.className = "none";
      td.textContent = "none";
      row.appendChild(td);
      body.replaceChildren(row);
      return;
    }
    body.replaceChildren(...rows.map((cells) => {
      const row = document.createElement("tr");
      for (const cell of cells) {
        const td = document.createElement("td");
        if (cell instanceof Node) td.appendChild(cell);
        else td.textContent = cell === null || cell === undefined ? "–" : String(cell);
        row.appendChild(td);
      }
      return row;
    }));
  }

  function thumbnail(url, sample) {
    const image = document.createElement("img");
    image.src = url;
    image.alt = "sample " + sample;
    image.className = "thumb";
    image.loading = "lazy";
    return image;
  }

  // "3 of 120 labels flagged, 1 disputed; 120 checked with round 4's out-of-fold ...".
  // "Keep labeling" or "the model has stopped changing", with the kappa trend.
  function showStopMeter(meter) {
    const line = document.getElementById("stop-meter");
    const trend = meter.kappas.filter((k) => k !== null).slice(-6).map((k) => k.toFixed(3));
    line.textContent = "Stop meter: " + meter.message +
      (trend.length ? ". Kappa by round: " + trend.join(", ") : "") +
      (meter.n_stop_set ? ". Stop set: " + meter.n_stop_set + " images, never queued." : ".");
    line.classList.toggle("warn", !meter.should_stop);
  }

  // The accuracy estimate's line, and a light per class from the last cross-validation: red
  // when a class's recall is clearly below the model's accuracy (label more of it).
  function showAccuracyEstimate(estimate) {
    document.getElementById("accuracy-estimate").textContent =
      "Accuracy estimate: " + estimate.message + ".";
    const list = document.getElementById("class-lights");
    const rows = estimate.cross_validation ? estimate.cross_validation.classes : [];
    list.replaceChildren(...rows.map((row) => {
      const item = document.createElement("li");
      item.className = "light-" + row.light;
      item.textContent = row.name + " " + (row.accuracy === null ? "-" : row.accuracy.toFixed(2)) +
        " (" + row.n + ")";
      item.title = row.light + ": recall " + (row.accuracy === null ? "not measured"
        : row.accuracy.toFixed(3) + ", 95% " + row.low.toFixed(3) + "-" + row.high.toFixed(3)) +
        " on " + row.n + " labels";
      return item;
    }));
  }

  function describeSuspects(suspects) {
    if (suspects.n_labels === 0) return "No labels yet.";
    const source = suspects.round_id === null
      ? "no round has checked them yet"
      : suspects.n_checked + " checked with round " + suspects.round_id + "'s out-of-fold " +
        "probabilities (" + suspects.source + ")";
    return suspects.n_flagged + " of " + suspects.n_labels + " labels flagged by confident " +
      "learning, " + suspects.n_disputed + " disputed by annotators; " + source +
      "; the command labeler suspects lists them all.";
  }

  // "0.912 of 34": a share and how many labels it was measured on.
  const ofChecked = (value, n) =>
    value === null || value === undefined ? null : value.toFixed(3) + " of " + n;

  const fraction = (value) => (value === null || value === undefined ? null : value.toFixed(3));

  // "Round 4 learned with linear@pixels: ...; candidates: linear@pixels 0.889, cnn -".
  function describeLearner(learner) {
    if (!learner) return "";
    let text = "Round " + learner.round + " learned with " + learner.reason;
    if (learner.candidates.length > 1) {
      text += "; candidates: " + learner.candidates.map((c) =>
        c.name + " " + (c.accuracy === null ? "-" : c.accuracy.toFixed(3))).join(", ");
    }
    return text;
  }

  function drawCurve(rounds) {
    const points = rounds.filter((r) => r.status === "done" && r.n_labels !== null
      && (r.test_accuracy !== null || r.val_accuracy !== null));
    const box = document.getElementById("curve");
    if (points.length === 0) {
      box.textContent = "No trained round yet: the learning curve appears after the first.";
      return;
    }
    const width = 640, height = 240, pad = 40;
    const maxLabels = Math.max(...points.map((r) => r.n_labels), 1);
    const x = (n) => pad + (width - 2 * pad) * (n / maxLabels);
    const y = (a) => height - pad - (height - 2 * pad) * a;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "accuracy against the number of labels");
    const add = (name, attrs, text) => {
      const node = document.createElementNS(SVG, name);
      for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
      if (text !== undefined) node.textContent = text;
      svg.appendChild(node);
      return node;
    };
    add("line", { x1: pad, y1: y(0), x2: width - pad, y2: y(0), class: "axis" });
    add("line", { x1: pad, y1: y(0), x2: pad, y2: y(1), class: "axis" });
    for (const a of [0, 0.5, 1]) add("text", { x: 4, y: y(a) + 4 }, a.toFixed(1));
    add("text", { x: pad - 4, y: height - 8 }, "0");
    add("text", { x: width - pad - 60, y: height - 8 }, maxLabels + " labels");
    for (const [key, cls, name] of [["test_accuracy", "test", "test"], ["val_accuracy", "val", "validation"]]) {
      const line = points.filter((r) => r[key] !== null).map((r) => x(r.n_labels) + "," + y(r[key]));
      if (line.length) add("polyline", { points: line.join(" "), class: cls });
      const last = points.filter((r) => r[key] !== null).pop();
      // Labels above the test line and below the validation line, so they never overlap.
      const dy = cls === "test" ? -6 : 16;
      if (last) add("text", { x: x(last.n_labels) - 70, y: y(last[key]) + dy, class: cls + "-label" }, name);
    }
    box.replaceChildren(svg);
  }

  async function refresh() {
    let data;
    try {
      data = await api.get("/api/dashboard");
    } catch (error) {
      return;
    }
    fill("classes", data.classes.map((c) => [c.name, c.labeled, c.unlabeled_known]));
    document.getElementById("totals").textContent =
      data.n_labeled + " of " + data.n_pool + " pool images labeled";
    document.getElementById("queue-waiting").textContent = String(data.queue.waiting);
    document.getElementById("queue-leased").textContent = String(data.queue.leased);
    document.getElementById("reviews-waiting").textContent = String(data.reviews.waiting);
    document.getElementById("reviews-leased").textContent = String(data.reviews.leased);
    fill("rounds", data.rounds.slice().reverse().map((r) => [
      r.id, r.status + (r.error ? ": " + r.error : ""), r.strategy, r.learner, r.n_labels,
      fraction(r.val_accuracy), fraction(r.test_accuracy)]));
    drawCurve(data.rounds);
    document.getElementById("learner-choice").textContent = describeLearner(data.last_learner);
    showStopMeter(data.stop_meter);
    showAccuracyEstimate(data.accuracy_estimate);
    const quality = Object.fromEntries(data.quality.annotators.map((q) => [q.name, q]));
    fill("annotators", Object.entries(data.annotators).map(([name, s]) => {
      const q = quality[name] || {};
      return [
        name, s.labels, s.skips, s.retracted,
        s.median_seconds === null ? null : s.median_seconds.toFixed(1),
        fraction(q.agreement), ofChecked(q.review_agreement, q.n_reviewed),
        ofChecked(q.gold_accuracy, q.n_gold),
        ofChecked(q.model_agreement, q.n_model_checked),
        ofChecked(q.known_accuracy, q.n_known)];
    }));
    fill("annotator-pairs", data.quality.pairs.map((p) => [
      p.first + " / " + p.second, p.n_shared, fraction(p.agreement), fraction(p.kappa)]));
    document.getElementById("suspect-summary").textContent = describeSuspects(data.suspects);
    fill("suspects", data.suspects.top.map((s) => [
      thumbnail(s.image_url, s.sample), s.sample, s.label, s.model_label,
      s.score === null ? null : s.score.toFixed(3), s.flagged ? "yes" : "",
      Object.entries(s.annotators).map(([who, what]) => who + ": " + what).join(", ")]));
    fill("label-conflicts", data.conflicts.labels.map((c) => [
      c.sample_id, Object.entries(c.labels).map(([who, what]) => who + ": " + what).join(", ")]));
    fill("lease-conflicts", data.conflicts.leases.map((c) => [
      c.sample_id, c.label, c.annotator, c.kind + (c.holder ? " (held by " + c.holder + ")" : "")]));
    showGrid(data.grid);
    const done = data.rounds.filter((r) => r.status === "done");
    poolMap.refreshIfRound(done.length ? done[done.length - 1].id : null);
    if (isAdmin) showJob(data.round_job);
  }

  const SOURCE_NAMES = { grid: "grid", blind: "blind (grid's slice)", web: "one at a time", review: "review answers" };

  function showGrid(grid) {
    document.getElementById("grid-state").textContent = (grid.enabled ? "On" : "Off") +
      "; " + Math.round(grid.blind_share * 100) + "% of every grid labeled blind" +
      (grid.blind_share > 0 ? " (at least one image)." : ".");
    fill("grid-agreement", Object.entries(grid.agreement).map(([source, a]) => [
      SOURCE_NAMES[source] || source, a.reviewed, a.confirmed,
      a.reviewed ? fraction(a.confirmed / a.reviewed) : null]));
    const form = document.getElementById("grid-form");
    // The form shows the stored settings until the admin starts to change them.
    if (form && !form.contains(document.activeElement)) {
      document.getElementById("grid-enabled").checked = grid.enabled;
      document.getElementById("grid-blind-share").value = String(grid.blind_share);
    }
  }

  function showJob(job) {
    const line = document.getElementById("round-job");
    if (!job) return;
    const what = job.strategy + ", " + job.query_size + " images, started by " + job.started_by;
    line.textContent = "Round (" + what + "): " + job.state + (job.last_line ? " · " + job.last_line : "");
    line.classList.toggle("warn", job.state === "failed");
  }

  if (isAdmin) {
    document.getElementById("round-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        strategy: document.getElementById("strategy").value,
        query_size: Number(document.getElementById("query-size").value),
      };
      const line = document.getElementById("round-job");
      try {
        const answer = await api.post("/api/admin/rounds", body);
        showJob(answer.job);
      } catch (error) {
        line.textContent = error.message;
        line.classList.add("warn");
      }
    });
  }

  const gridForm = document.getElementById("grid-form");
  if (gridForm) {
    gridForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        enabled: document.getElementById("grid-enabled").checked,
        blind_share: Number(document.getElementById("grid-blind-share").value),
      };
      const line = document.getElementById("grid-state");
      try {
        await api.post("/api/admin/grid", body);
        document.activeElement.blur();
        refresh();
      } catch (error) {
        line.textContent = error.message;
        line.classList.add("warn");
      }
    });
  }

  refresh();
  setInterval(refresh, 3000);
})();
