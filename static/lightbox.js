// The gallery lightbox: a tile's zoom button shows the image large; left/right arrows (keys,
// buttons, or a swipe on a touch screen) step through the grid, Esc closes (the <dialog>
// does that itself). Star, download and copy prompt act on the image shown. Without
// JavaScript the tiles are plain links to each image's page.
(() => {
  let current = null;
  let touchStart = null;
  const SWIPE_PX = 50;

  const el = (id) => document.getElementById(id);
  const tiles = () => Array.from(document.querySelectorAll("#grid .tile-link"));
  // The tile's own star button: the lightbox presses it, so there is one way to star.
  const tileStar = () => current && current.closest(".tile") && current.closest(".tile").querySelector(".star");

  function showStar() {
    const button = document.querySelector("#lightbox [data-lightbox=star]");
    const star = tileStar();
    if (!button || !star) return;
    const starred = star.getAttribute("aria-pressed") === "true";
    button.setAttribute("aria-pressed", starred ? "true" : "false");
    button.querySelector(".glyph").textContent = starred ? "★" : "☆";
  }

  function show(link) {
    const dialog = el("lightbox");
    if (!dialog) return;
    current = link;
    const image = el("lightbox-image");
    image.src = link.dataset.full;
    image.alt = link.dataset.prompt || "";
    el("lightbox-caption").textContent = `${link.dataset.prompt || ""} · ${link.dataset.owner || ""}`;
    el("lightbox-detail").href = link.href;
    el("lightbox-download").href = `${link.dataset.full}?download`;
    el("lightbox-copy").dataset.copy = link.dataset.prompt || "";
    showStar();
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
      else if (action === "star") {
        const star = tileStar();
        if (star) star.click();
      } else step(action === "next" ? 1 : -1);
      return;
    }
    const zoom = event.target.closest(".tile-zoom");
    if (!zoom) return;
    event.preventDefault();
    show(zoom.closest(".tile").querySelector(".tile-link"));
  });

  // The tile's star form comes back from the server re-rendered; show its new state.
  document.addEventListener("htmx:afterSettle", () => {
    const dialog = el("lightbox");
    if (dialog && dialog.open) showStar();
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

  // Swipe on the image: a mostly sideways move of more than SWIPE_PX steps to the
  // neighbour (left shows the next image, as in a phone's photo viewer).
  document.addEventListener("touchstart", (event) => {
    if (event.target.id !== "lightbox-image" || event.touches.length !== 1) return;
    touchStart = { x: event.touches[0].clientX, y: event.touches[0].clientY };
  }, { passive: true });
  document.addEventListener("touchend", (event) => {
    if (!touchStart || event.changedTouches.length !== 1) return;
    const dx = event.changedTouches[0].clientX - touchStart.x;
    const dy = event.changedTouches[0].clientY - touchStart.y;
    touchStart = null;
    if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(dy)) step(dx < 0 ? 1 : -1);
  }, { passive: true });
})();
