// The edit page: input images (upload by picker, drop or paste; pick from the gallery;
// reorder; remove), a mask painter over the first image, and submission without a reload so
// that an error never loses the images or the painted mask.
(() => {
  const form = document.getElementById("edit-form");
  if (!form) return;

  const list = document.getElementById("edit-inputs");
  const fileInput = document.getElementById("id_uploads");
  const dropzone = document.getElementById("dropzone");
  const status = document.getElementById("upload-status");
  const errors = document.getElementById("edit-errors");
  const maxInputs = Number(form.dataset.maxInputs || 16);
  const csrf = () => form.querySelector("[name=csrfmiddlewaretoken]").value;
  let pendingUploads = 0;

  // --- Inputs ---------------------------------------------------------------------------

  function decorate(item) {
    if (item.querySelector(".input-controls")) return;
    const controls = document.createElement("div");
    controls.className = "input-controls";
    for (const [action, text, label] of [
      ["up", "←", "Move earlier"],
      ["down", "→", "Move later"],
      ["remove", "✕", "Remove"],
    ]) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.action = action;
      button.textContent = text;
      button.title = label;
      button.setAttribute("aria-label", `${label}: image ${item.dataset.id}`);
      controls.append(button);
    }
    item.append(controls);
    item.draggable = true;
  }

  function addInput({ id, original, thumbnail }) {
    if (list.children.length >= maxInputs) {
      showError(`At most ${maxInputs} images: remove one first.`);
      return;
    }
    const item = document.createElement("li");
    item.className = "edit-input";
    item.dataset.id = id;
    item.dataset.original = original;
    const img = document.createElement("img");
    img.src = thumbnail;
    img.alt = `Image ${id}`;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "image_ids";
    hidden.value = id;
    item.append(img, hidden);
    decorate(item);
    list.append(item);
    inputsChanged();
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest("li");
    if (button.dataset.action === "remove") item.remove();
    if (button.dataset.action === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    }
    if (button.dataset.action === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
    inputsChanged();
  });

  let dragged = null;
  list.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("li");
    event.dataTransfer.effectAllowed = "move";
  });
  list.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = event.target.closest("li");
    if (over && over !== dragged) {
      const after = event.clientX > over.getBoundingClientRect().left + over.offsetWidth / 2;
      list.insertBefore(dragged, after ? over.nextElementSibling : over);
    }
  });
  list.addEventListener("dragend", () => {
    dragged = null;
    inputsChanged();
  });

  async function upload(file) {
    const body = new FormData();
    body.append("file", file);
    body.append("csrfmiddlewaretoken", csrf());
    pendingUploads += 1;
    status.textContent = `Uploading ${file.name || "image"}…`;
    try {
      const response = await fetch(form.dataset.uploadUrl, { method: "POST", body });
      const data = await response.json().catch(() => ({ error: `The upload failed (HTTP ${response.status}).` }));
      if (!response.ok) throw new Error(data.error || `The upload failed (HTTP ${response.status}).`);
      addInput(data);
      status.textContent = `Added ${data.name || "image"}.`;
    } catch (error) {
      status.textContent = "";
      showError(error.message);
    } finally {
      pendingUploads -= 1;
    }
  }

  // One at a time, so the images land in the order they were chosen.
  async function uploadAll(files) {
    for (const file of files) await upload(file);
  }

  fileInput.addEventListener("change", () => {
    uploadAll([...fileInput.files]);
    fileInput.value = ""; // uploaded already: the submission sends ids, not files
  });
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => {
      if (dragged) return;
      event.preventDefault();
      dropzone.classList.add("over");
    });
  }
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("over");
    uploadAll([...event.dataTransfer.files]);
  });
  document.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (files.length) {
      event.preventDefault();
      uploadAll(files);
    }
  });
  form.addEventListener("click", (event) => {
    const pick = event.target.closest("button.pick");
    if (pick) addInput(pick.dataset);
  });

  // --- Mask painter ---------------------------------------------------------------------

  const stage = document.getElementById("mask-stage");
  const tools = document.getElementById("mask-tools");
  const empty = document.getElementById("mask-empty");
  const base = document.getElementById("mask-base");
  const maskCanvas = document.getElementById("mask-canvas");
  const maskCtx = maskCanvas.getContext("2d", { willReadFrequently: true });
  // The markup layer: arrows and circles drawn over the first image, sent as they are.
  const markupCanvas = document.getElementById("markup-canvas");
  const markupCtx = markupCanvas.getContext("2d", { willReadFrequently: true });
  let canvas = maskCanvas;
  let ctx = maskCtx;
  const brush = document.getElementById("brush-size");
  const undoStack = [];
  const PAINT = "rgb(255, 40, 90)";
  const MARKUP = "rgb(230, 20, 20)";
  let markupDrawn = false;

  for (const choice of form.querySelectorAll("input[name=layer]")) {
    choice.addEventListener("change", () => {
      const markup = choice.value === "markup" && choice.checked;
      stage.classList.toggle("markup-active", markup);
      canvas = markup ? markupCanvas : maskCanvas;
      ctx = markup ? markupCtx : maskCtx;
    });
  }
  let firstId = null;
  let painting = false;
  let last = null;

  function inputsChanged() {
    for (const item of list.children) decorate(item);
    const first = list.firstElementChild;
    const id = first ? first.dataset.id : null;
    if (id === firstId) return;
    firstId = id;
    undoStack.length = 0;
    stage.hidden = tools.hidden = !first;
    empty.hidden = Boolean(first);
    if (first) {
      base.src = first.dataset.original;
    }
  }

  base.addEventListener("load", () => {
    // The canvases have the image's own pixel size; CSS scales them together.
    for (const [layer, context] of [[maskCanvas, maskCtx], [markupCanvas, markupCtx]]) {
      layer.width = base.naturalWidth;
      layer.height = base.naturalHeight;
      context.clearRect(0, 0, layer.width, layer.height);
    }
    markupDrawn = false;
    restoreLayers();
  });

  // "Use these settings" on an edit: its mask and markup come back over its first image,
  // once (after that the person paints as usual).
  function restoreLayers() {
    const { layersFor, maskUrl, markupUrl } = stage.dataset;
    if (!layersFor || layersFor !== firstId) return;
    delete stage.dataset.layersFor;
    if (maskUrl) loadLayer(maskUrl, (pixels) => paintMask(pixels));
    if (markupUrl) {
      loadLayer(markupUrl, (pixels) => {
        markupCtx.putImageData(pixels, 0, 0);
        markupDrawn = true;
      });
    }
  }

  function loadLayer(url, use) {
    const picture = new Image();
    picture.addEventListener("load", () => {
      if (picture.naturalWidth !== maskCanvas.width || picture.naturalHeight !== maskCanvas.height) return;
      const scratch = document.createElement("canvas");
      scratch.width = picture.naturalWidth;
      scratch.height = picture.naturalHeight;
      const context = scratch.getContext("2d", { willReadFrequently: true });
      context.drawImage(picture, 0, 0);
      use(context.getImageData(0, 0, scratch.width, scratch.height));
      stage.dataset.restored = "true";
    });
    picture.src = url;
  }

  // The API's mask is transparent where the model may paint: that is what the brush paints.
  function paintMask(sent) {
    const painted = maskCtx.createImageData(sent.width, sent.height);
    for (let i = 0; i < sent.data.length; i += 4) {
      if (sent.data[i + 3] >= 128) continue;
      painted.data[i] = 255;
      painted.data[i + 1] = 40;
      painted.data[i + 2] = 90;
      painted.data[i + 3] = 255;
    }
    maskCtx.putImageData(painted, 0, 0);
  }

  function snapshot() {
    undoStack.push({ ctx, pixels: ctx.getImageData(0, 0, canvas.width, canvas.height) });
    if (undoStack.length > 12) undoStack.shift();
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
      scale: canvas.width / box.width,
    };
  }

  function stroke(from, to) {
    const erase = form.querySelector("input[name=tool]:checked").value === "eraser";
    ctx.globalCompositeOperation = erase ? "destination-out" : "source-over";
    const markup = ctx === markupCtx;
    if (markup && !erase) markupDrawn = true;
    ctx.strokeStyle = ctx.fillStyle = markup ? MARKUP : PAINT;
    ctx.lineCap = ctx.lineJoin = "round";
    // Markup is drawn as lines, a quarter of the mask brush.
    ctx.lineWidth = (Number(brush.value) * to.scale) / (markup ? 4 : 1);
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + 0.01, to.y);
    ctx.stroke();
    ctx.globalCompositeOperation = "source-over";
  }

  for (const layer of [maskCanvas, markupCanvas]) {
    layer.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      layer.setPointerCapture(event.pointerId);
      snapshot();
      painting = true;
      last = point(event);
      stroke(last, last);
    });
    layer.addEventListener("pointermove", (event) => {
      if (!painting) return;
      const here = point(event);
      stroke(last, here);
      last = here;
    });
    for (const type of ["pointerup", "pointercancel"]) {
      layer.addEventListener(type, () => {
        painting = false;
      });
    }
  }

  document.getElementById("mask-undo").addEventListener("click", () => {
    const previous = undoStack.pop();
    if (previous) previous.ctx.putImageData(previous.pixels, 0, 0);
  });
  document.getElementById("mask-clear").addEventListener("click", () => {
    snapshot();
    ctx.clearRect(0, 0, canvas.width, canvas.height);
  });
  document.getElementById("mask-invert").addEventListener("click", () => {
    if (ctx !== maskCtx) return; // only a mask has an inside and an outside
    snapshot();
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const d = pixels.data;
    for (let i = 0; i < d.length; i += 4) {
      const painted = d[i + 3] >= 128;
      d[i] = 255;
      d[i + 1] = 40;
      d[i + 2] = 90;
      d[i + 3] = painted ? 0 : 255;
    }
    ctx.putImageData(pixels, 0, 0);
  });

  // The API's mask: the first image's size, opaque where it must stay, transparent
  // (alpha 0) where painted. Null when nothing is painted.
  function exportMask() {
    const canvas = maskCanvas;
    if (!firstId || !canvas.width) return Promise.resolve(null);
    const painted = maskCtx.getImageData(0, 0, canvas.width, canvas.height);
    const out = new ImageData(canvas.width, canvas.height);
    let any = false;
    for (let i = 3; i < painted.data.length; i += 4) {
      const editable = painted.data[i] >= 128;
      any ||= editable;
      out.data[i] = editable ? 0 : 255;
    }
    if (!any) return Promise.resolve(null);
    const exported = document.createElement("canvas");
    exported.width = canvas.width;
    exported.height = canvas.height;
    exported.getContext("2d").putImageData(out, 0, 0);
    return new Promise((resolve) => exported.toBlob(resolve, "image/png"));
  }

  // The markup layer as drawn: transparent where nothing is marked. Null when blank.
  function exportMarkup() {
    if (!firstId || !markupCanvas.width || !markupDrawn) return Promise.resolve(null);
    const drawn = markupCtx.getImageData(0, 0, markupCanvas.width, markupCanvas.height).data;
    let any = false;
    for (let i = 3; i < drawn.length && !any; i += 4) any = drawn[i] > 0;
    if (!any) return Promise.resolve(null);
    return new Promise((resolve) => markupCanvas.toBlob(resolve, "image/png"));
  }

  // --- Submit ---------------------------------------------------------------------------

  function showError(message) {
    errors.replaceChildren();
    const box = document.createElement("div");
    box.className = "errors";
    box.setAttribute("role", "alert");
    const ul = document.createElement("ul");
    const li = document.createElement("li");
    li.textContent = message;
    ul.append(li);
    box.append(ul);
    errors.append(box);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (pendingUploads) {
      showError("Wait a moment: images are still uploading.");
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    const body = new FormData(form);
    body.delete("uploads");
    const maskFile = document.getElementById("id_mask").files[0];
    if (!maskFile) {
      body.delete("mask");
      const mask = await exportMask();
      if (mask) body.append("mask", mask, "mask.png");
    }
    if (!document.getElementById("id_markup").files[0]) {
      body.delete("markup");
      const markup = await exportMarkup();
      if (markup) body.append("markup", markup, "markup.png");
    }
    submit.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body,
        headers: { "HX-Request": "true" },
      });
      const html = await response.text();
      if (response.ok) {
        errors.replaceChildren();
        document.getElementById("no-jobs")?.remove();
        const jobs = document.getElementById("jobs");
        jobs.insertAdjacentHTML("afterbegin", html);
        if (window.htmx) window.htmx.process(jobs.firstElementChild);
      } else if (response.status === 400 || response.status === 429) {
        errors.innerHTML = html;
      } else {
        showError(`The studio could not take the edit (HTTP ${response.status}). Your images and mask are kept: try again.`);
      }
    } catch {
      showError("The studio could not be reached. Your images and mask are kept: try again.");
    } finally {
      submit.disabled = false;
    }
  });

  inputsChanged();
})();
