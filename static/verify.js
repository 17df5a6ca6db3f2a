// The Verify page: an image dropped anywhere on the page (or picked) is checked at once,
// without a reload (the form's htmx attributes swap the answer in); the compare sliders set
// how much of an ingredient covers the checked image. Without JavaScript the form posts.
(() => {
  const overlay = document.getElementById("drop-overlay");
  let depth = 0; // dragenter/dragleave fire for every element crossed

  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  const show = (on) => {
    if (overlay) overlay.hidden = !on;
  };

  function check(file) {
    const input = document.getElementById("id_file");
    if (!input || !file) return;
    const chosen = new DataTransfer();
    chosen.items.add(file);
    input.files = chosen.files;
    input.form.requestSubmit();
  }

  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    show(true);
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) show(false);
  });
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    show(false);
    check(event.dataTransfer.files[0]);
  });

  document.addEventListener("change", (event) => {
    if (event.target.id === "id_file" && event.target.files.length) {
      event.target.form.requestSubmit();
    }
  });

  document.addEventListener("input", (event) => {
    if (!event.target.classList?.contains("compare-range")) return;
    const figure = event.target.closest(".compare");
    figure.style.setProperty("--split", `${event.target.value}%`);
  });

  document.addEventListener("change", (event) => {
    if (!event.target.classList?.contains("compare-pick")) return;
    const section = event.target.closest(".verify-compare");
    for (const picture of section.querySelectorAll(".compare-before")) {
      picture.hidden = picture.dataset.index !== event.target.value;
    }
  });

  // After a check, the verdict is what a keyboard or screen reader user hears next.
  document.addEventListener("htmx:afterSwap", () => {
    document.getElementById("verdict")?.focus();
  });
})();
