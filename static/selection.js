// The gallery's selection bar: tick tiles (shift-click ticks the range since the last one),
// then add them to a board, star them, make them private or delete them all at once. Tiles
// can also be dragged onto a board in the sidebar (the selected ones, if the dragged tile is
// one of them). The bar's buttons are the way without a mouse.
(() => {
  const bar = document.getElementById("selection");
  if (!bar) return;
  const count = bar.querySelector(".selection-count");
  const boxes = () => [...document.querySelectorAll(".tile-select")];
  const chosen = () => boxes().filter((box) => box.checked);
  const DRAG_TYPE = "application/x-studio-images";
  let last = null;

  function update() {
    const n = chosen().length;
    bar.hidden = n === 0;
    count.textContent = n === 1 ? "1 image selected" : `${n} images selected`;
    document.body.classList.toggle("selecting", n > 0);
    boxes().forEach((box) => box.closest(".tile").classList.toggle("selected", box.checked));
  }

  function selectAll(on) {
    boxes().forEach((box) => { box.checked = on; });
    last = null;
    update();
  }

  document.addEventListener("click", (event) => {
    const box = event.target.closest && event.target.closest(".tile-select");
    if (!box) return;
    if (event.shiftKey && last && last !== box && last.isConnected) {
      const all = boxes();
      const [from, to] = [all.indexOf(last), all.indexOf(box)].sort((a, b) => a - b);
      all.slice(from, to + 1).forEach((other) => { other.checked = box.checked; });
    }
    last = box;
    update();
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches(".tile-select")) update();
  });
  bar.addEventListener("click", (event) => {
    const button = event.target.closest("[data-selection]");
    if (button) selectAll(button.dataset.selection === "all");
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !chosen().length || document.querySelector("dialog[open]")) return;
    selectAll(false);
  });

  // What the server did (HX-Trigger "studio:selection"): deleted tiles leave, starred ones
  // show their star, and the selection is done.
  document.body.addEventListener("studio:selection", (event) => {
    const { action, ids } = event.detail;
    (ids || []).forEach((id) => {
      const link = document.querySelector(`.tile-link[data-id="${id}"]`);
      const tile = link && link.closest(".tile");
      if (!tile) return;
      if (action === "delete") tile.remove();
      const star = tile.querySelector(".star");
      if (action === "star" && star) {
        star.setAttribute("aria-pressed", "true");
        star.textContent = "★";
        star.title = "Unstar";
      }
    });
    if (ids && ids.length) selectAll(false);
  });
  document.addEventListener("htmx:afterSettle", update);

  document.addEventListener("dragstart", (event) => {
    const tile = event.target.closest && event.target.closest(".tile");
    const box = tile && tile.querySelector(".tile-select");
    if (!box) return;
    const ids = box.checked ? chosen().map((b) => b.value) : [box.value];
    event.dataTransfer.setData(DRAG_TYPE, ids.join(","));
    event.dataTransfer.effectAllowed = "copy";
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragend", () => document.body.classList.remove("dragging"));
  document.querySelectorAll(".board-drop").forEach((zone) => {
    zone.addEventListener("dragover", (event) => {
      if (!event.dataTransfer.types.includes(DRAG_TYPE)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("drop-here");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("drop-here"));
    zone.addEventListener("drop", (event) => {
      const ids = (event.dataTransfer.getData(DRAG_TYPE) || "").split(",").filter(Boolean);
      zone.classList.remove("drop-here");
      if (!ids.length) return;
      event.preventDefault();
      zone.querySelectorAll("input[name=image]").forEach((input) => input.remove());
      ids.forEach((id) => {
        const input = document.createElement("input");
        Object.assign(input, { type: "hidden", name: "image", value: id });
        zone.append(input);
      });
      zone.requestSubmit();
    });
  });

  update();
})();
