// The upload page's resumable weights upload: Uppy sends the file in pieces
// over the tus protocol to the portal's API, so a dropped connection, a
// closed laptop or a reloaded page resumes where it stopped (Uppy remembers
// the upload by the file's fingerprint). The portal checks the SHA-256 of the
// whole file against the one given here and the version's declared digest.
import Uppy from "@uppy/core";
import Tus from "@uppy/tus";

const PIECE_BYTES = 64 * 1024 * 1024;

function problemDetail(error) {
  const response = error && error.originalResponse;
  if (response) {
    try {
      const body = JSON.parse(response.getBody());
      if (body && body.detail) return body.detail;
    } catch (ignored) {
      // not problem details: fall back to the message below
    }
  }
  return "The upload stopped: " + ((error && error.message) || "unknown error") + ". Start it again to resume.";
}

function setup(section) {
  const input = section.querySelector("input[type=file]");
  const digest = section.querySelector("input[name=resumable_sha256]");
  const start = section.querySelector("[data-start]");
  const pause = section.querySelector("[data-pause]");
  const progress = section.querySelector("progress");
  const status = section.querySelector("[data-status]");
  const problem = section.querySelector("[data-problem]");
  const csrf = section.querySelector("input[name=csrfmiddlewaretoken]").value;

  const uppy = new Uppy({ autoProceed: false, restrictions: { maxNumberOfFiles: 1 } });
  uppy.use(Tus, {
    endpoint: section.dataset.endpoint,
    headers: { "X-CSRFToken": csrf },
    chunkSize: PIECE_BYTES,
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
    allowedMetaFields: ["filename", "sha256"],
    removeFingerprintOnSuccess: true,
  });

  function showProblem(text) {
    problem.querySelector(".usa-alert__text").textContent = text;
    problem.hidden = !text;
  }

  uppy.on("upload-progress", (file, sent) => {
    if (!sent.bytesTotal) return;
    const percent = Math.floor((sent.bytesUploaded / sent.bytesTotal) * 100);
    progress.hidden = false;
    progress.value = percent;
    status.textContent = percent + "% sent (" + sent.bytesUploaded + " of " + sent.bytesTotal + " bytes)";
  });
  uppy.on("upload-success", () => {
    status.textContent = "Weights received; the checksum matches.";
    window.location.assign(section.dataset.done);
  });
  uppy.on("upload-error", (file, error) => {
    showProblem(problemDetail(error));
    start.disabled = false;
    pause.hidden = true;
    uppy.removeFile(file.id);
  });

  start.addEventListener("click", () => {
    showProblem("");
    const file = input.files && input.files[0];
    if (!file) return showProblem("Choose the weights file first.");
    if (!/^(sha256:)?[0-9a-fA-F]{64}$/.test(digest.value.trim())) {
      return showProblem("Give the file's SHA-256 (64 hexadecimal characters).");
    }
    uppy.cancelAll();
    uppy.addFile({
      name: file.name,
      type: file.type,
      data: file,
      meta: { filename: file.name, sha256: digest.value.trim() },
    });
    start.disabled = true;
    pause.hidden = false;
    uppy.upload();
  });
  pause.addEventListener("click", () => {
    const paused = pause.getAttribute("aria-pressed") === "true";
    if (paused) uppy.resumeAll();
    else uppy.pauseAll();
    pause.setAttribute("aria-pressed", String(!paused));
    pause.textContent = paused ? "Pause" : "Resume";
  });
}

document.querySelectorAll("[data-resumable-upload]").forEach(setup);
