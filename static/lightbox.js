// The gallery lightbox: a tile's zoom button shows the image large; left/right arrows step
// through the grid, Esc closes (the <dialog> does that itself). Without JavaScript the
// tiles are plain links to each image's page.
(() => {
  let current = null;

  const el = (id) => document.getElementById(id);
  const tiles = () => Array.from(document.querySelectorAll("#grid .tile-link"));

  function show(link) {
    const dialog = el("lightbox");
    if (!dialog) return;
    current = link;
    const image = el("lightbox-image");
    image.src = link.dataset.full;
    image.alt = link.dataset.prompt || "";
    el("lightbox-caption").textContent = `${link.dataset.prompt || ""} · ${link.dataset.owner || ""}`;
    el("lightbox-detail").href = link.href;
    const form = el("lightbox-board");
    if (form) {
      form.elements.image.value = link.dataset.id;
      el("lightbox-board-status").textContent = "";
    }
    dialog.dataset.current = link.dataset.id;
    if (!dialog.open) dialog.showModal();
  }

  function step(delta) {
    const all = tiles();
    const next = all[all.indexOf(current) + delta];
    if (next) {
      show(next);
      next.scrollIntoView({ block: "nearest" });
    }
  }

  document.addEventListener("click", (event) => {
    const control = event.target.closest("[data-lightbox]");
    if (control) {
      const action = control.dataset.lightbox;
      if (action === "close") el("lightbox").close();
      else step(action === "next" ? 1 : -1);
      return;
    }
    const zoom = event.target.closest(".tile-zoom");
    if (!zoom) return;
    event.preventDefault();
    show(zoom.closest(".tile").querySelector(".tile-link"));
  });

  document.addEventListener("keydown", (event) => {
    const dialog = el("lightbox");
    if (!dialog || !dialog.open) return;
    if (event.target.closest("select, input, textarea")) return;
    if (event.key === "ArrowRight") step(1);
    else if (event.key === "ArrowLeft") step(-1);
    else return;
    event.preventDefault();
  });
})();
