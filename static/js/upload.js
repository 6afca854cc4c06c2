// Drag-and-drop upload of several photos: a progress bar each, then live status until ready.
import { csrfToken, toast } from "./api.js";

const POLL_MS = 1000;

function uploadOne(file, caption, item) {
  const bar = item.querySelector("progress");
  const state = item.querySelector(".state");
  return new Promise((resolve) => {
    // XMLHttpRequest, not fetch: only it reports upload progress.
    const request = new XMLHttpRequest();
    request.open("POST", "/api/v1/photos/");
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    });
    request.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (_) { /* not JSON */ }
      if (request.status === 200 || request.status === 201) {
        bar.value = 100;
        resolve(body);
      } else {
        const message = body && body.error && request.status < 500
          ? body.error.message
          : "The upload failed on our side. Please try again.";
        fail(item, message);
        resolve(null);
      }
    });
    request.addEventListener("error", () => {
      fail(item, "The upload was interrupted. Check your connection and try again.");
      resolve(null);
    });
    const data = new FormData();
    data.append("image", file);
    if (caption) data.append("caption", caption);
    state.textContent = "Uploading…";
    request.send(data);
  });
}

function fail(item, message) {
  item.classList.add("failed");
  item.querySelector(".state").textContent = message;
}

async function followProcessing(photo, item) {
  const state = item.querySelector(".state");
  const view = item.querySelector(".view");
  for (;;) {
    if (photo.status === "ready") {
      item.classList.add("ready");
      state.textContent = "Ready";
      view.href = `/p/${photo.id}/`;
      view.hidden = false;
      return;
    }
    if (photo.status === "failed") {
      fail(item, photo.failure_reason || "This photo could not be processed.");
      return;
    }
    state.textContent = photo.status === "processing" ? "Processing…" : "Waiting for processing…";
    await new Promise((done) => setTimeout(done, POLL_MS));
    try {
      const response = await fetch(`/api/v1/photos/${photo.id}/`, { credentials: "same-origin" });
      if (response.ok) photo = await response.json();
    } catch (_) { /* offline for a moment: keep polling */ }
  }
}

export function uploader(form) {
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector("[data-dropzone]");
  const list = document.querySelector("[data-upload-list]");
  const template = document.getElementById("upload-item-template");
  const caption = form.querySelector("textarea[name=caption]");

  async function start(files) {
    const jobs = [];
    for (const file of files) {
      const item = template.content.firstElementChild.cloneNode(true);
      item.querySelector(".name").textContent = file.name || "photo";
      item.dataset.fileName = file.name;
      list.append(item);
      jobs.push(uploadOne(file, caption.value, item).then((photo) => photo && followProcessing(photo, item)));
    }
    await Promise.all(jobs);
  }

  input.addEventListener("change", () => { if (input.files.length) start([...input.files]); input.value = ""; });
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = [...event.dataTransfer.files];
    if (!files.length) { toast("Drop image files to upload them."); return; }
    start(files);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
}
