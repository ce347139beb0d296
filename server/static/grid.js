"use strict";
// Grid labeling on the labeling page: a page of images the model puts in one class. The
// annotator marks the ones that do not belong (click or tap, or arrow keys and Space) and
// confirms the rest with Enter. Marked images, and the grid's blind slice, then go to
// one-at-a-time labeling (handed to the page through onSingles).
const labelerGrid = (function () {
  const TILE_PX = 112; // a tile's side, gap included, on a wide screen
  const MIN_COLUMNS = 3;
  const MAX_TILES = 60; // the server's MAX_GRID_SIZE

  function create({ api, root, title, say, onSingles, onEmpty }) {
    let label = null; // the class of the grid shown
    let tiles = []; // {task, element, marked}
    let blind = [];
    let cursor = 0;
    let loading = false;
    let submitting = false;
    let lasso = []; // ids selected on the dashboard's map, still to show
    let chunk = null; // the lasso's ids in the grid shown

    // As many tiles as fit the screen below the page's header and controls.
    function fitSize() {
      const width = Math.min(window.innerWidth, 960) - 32;
      const columns = Math.max(MIN_COLUMNS, Math.floor(width / TILE_PX));
      const side = Math.floor(width / columns);
      const rows = Math.max(2, Math.floor((window.innerHeight - 300) / side));
      root.style.setProperty("--grid-columns", String(columns));
      return Math.min(MAX_TILES, columns * rows);
    }

    function columns() {
      return Number(getComputedStyle(root).getPropertyValue("--grid-columns")) || MIN_COLUMNS;
    }

    // A lasso's images come first, one grid's worth at a time; a class key shows the same
    // images as a grid of that class.
    function setLasso(ids) {
      lasso = ids.slice();
      chunk = null;
    }

    async function load(wanted) {
      if (loading) return;
      loading = true;
      try {
        const n = fitSize();
        if (chunk === null && lasso.length) chunk = lasso.splice(0, n);
        let query = "?n=" + n + (wanted ? "&label=" + encodeURIComponent(wanted) : "");
        if (chunk !== null) query += "&ids=" + chunk.join(",");
        const data = await api.get("/api/grid" + query);
        label = data.label;
        blind = data.blind;
        render(data.tiles);
        if (!data.tiles.length && !data.blind.length && chunk !== null) {
          // Every image of this part of the lasso is labeled or taken: the next part.
          chunk = null;
          if (!lasso.length) say("Done with the images selected on the map.", false);
          loading = false;
          return load();
        }
        if (!data.tiles.length && !data.blind.length) onEmpty(label);
        else if (!data.tiles.length) confirm(); // only a blind slice: straight to it
      } catch (error) {
        say("Could not fetch a grid: " + error.message, true);
        onEmpty(null, error);
      } finally {
        loading = false;
      }
    }

    function render(tasks) {
      tiles = tasks.map((task, index) => {
        const element = document.createElement("button");
        element.type = "button";
        element.className = "tile";
        element.dataset.sampleId = String(task.sample_id);
        const image = document.createElement("img");
        image.src = task.image_url;
        image.alt = "image " + task.sample_id;
        element.appendChild(image);
        element.addEventListener("click", () => {
          element.blur(); // else Space and Enter would press it again
          cursor = index;
          toggle(index);
        });
        return { task, element, marked: false };
      });
      cursor = 0;
      root.replaceChildren(...tiles.map((tile) => tile.element));
      const from = chunk !== null ? " selected on the map" : "";
      title.textContent = tiles.length
        ? "Model says " + label + ": mark the images" + from + " that are not (" + tiles.length + " shown)"
        : "";
      paint();
    }

    function paint() {
      tiles.forEach((tile, index) => {
        tile.element.classList.toggle("marked", tile.marked);
        tile.element.classList.toggle("cursor", index === cursor);
        tile.element.setAttribute("aria-pressed", tile.marked ? "true" : "false");
      });
    }

    function toggle(index) {
      if (!tiles[index]) return;
      tiles[index].marked = !tiles[index].marked;
      paint();
    }

    function move(step) {
      if (!tiles.length) return;
      cursor = Math.min(tiles.length - 1, Math.max(0, cursor + step));
      paint();
    }

    // Store the unmarked tiles as `label`; the marked ones and the blind slice are next,
    // one at a time (the page shows them without the model's guess).
    async function confirm() {
      if (submitting || loading) return;
      const accepted = tiles.filter((tile) => !tile.marked).map((tile) => tile.task.sample_id);
      const rejectedTiles = tiles.filter((tile) => tile.marked);
      const singles = blind.concat(rejectedTiles.map((tile) => ({ ...tile.task, kind: "label", guess: null })));
      const body = {
        label,
        accepted,
        rejected: rejectedTiles.map((tile) => tile.task.sample_id),
        request_id: api.newRequestId(),
      };
      tiles = [];
      blind = [];
      chunk = null;
      root.replaceChildren();
      title.textContent = "";
      if (accepted.length || body.rejected.length) {
        submitting = true;
        try {
          const answer = await api.post("/api/grid", body);
          const late = answer.results.filter((result) => result.lease !== "held");
          say(answer.stored + " labeled " + answer.label + (late.length
            ? "; " + late.length + " had been handed to someone else (kept)" : "") + ".", late.length > 0);
        } catch (error) {
          say("The grid was not stored: " + error.message, true);
        } finally {
          submitting = false;
        }
      }
      onSingles(singles);
    }

    function handleKey(event, keyToLabel) {
      const key = event.key;
      const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns(), ArrowDown: columns() };
      if (key in steps) {
        move(steps[key]);
      } else if (key === " ") {
        toggle(cursor);
      } else if (key === "Enter") {
        confirm();
      } else if (key.toLowerCase() in keyToLabel) {
        load(keyToLabel[key.toLowerCase()]); // a grid of another class
      } else {
        return false;
      }
      event.preventDefault();
      return true;
    }

    return { load, handleKey, confirm, setLasso };
  }

  return { create };
})();
