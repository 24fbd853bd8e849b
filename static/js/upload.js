// Upload forms: send the file with XMLHttpRequest so the page can show a
// progress bar, accept a file dropped on the drop zone, and show refusals
// without leaving the page (so nothing typed is lost). Without JavaScript the
// form posts normally.
(function () {
  "use strict";

  function setup(form) {
    var fileInput = form.querySelector('input[type="file"]');
    var zone = form.querySelector("[data-dropzone]");
    var progress = form.querySelector("[data-progress]");
    var bar = form.querySelector("[data-progress-bar]");
    var errors = form.querySelector("[data-upload-errors]");
    var button = form.querySelector('button[type="submit"]');
    if (!fileInput) return;

    if (zone) {
      zone.hidden = false;
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("bg-primary-lighter", "border-primary");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.remove("bg-primary-lighter", "border-primary");
        });
      });
      zone.addEventListener("drop", function (event) {
        if (event.dataTransfer && event.dataTransfer.files.length) {
          fileInput.files = event.dataTransfer.files;
          zone.textContent = "Ready: " + event.dataTransfer.files[0].name;
        }
      });
      fileInput.addEventListener("change", function () {
        if (fileInput.files.length) zone.textContent = "Ready: " + fileInput.files[0].name;
      });
    }

    function showErrors(list) {
      errors.innerHTML = "";
      list.forEach(function (text) {
        var line = document.createElement("div");
        line.textContent = text;
        errors.appendChild(line);
      });
      errors.hidden = list.length === 0;
    }

    function setProgress(percent) {
      progress.hidden = false;
      bar.style.width = percent + "%";
      bar.textContent = percent + "%";
      progress.setAttribute("aria-valuenow", String(percent));
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      showErrors([]);
      setProgress(0);
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) setProgress(Math.round((e.loaded / e.total) * 100));
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch (ignored) {
          body = null;
        }
        if (xhr.status >= 200 && xhr.status < 300 && body && body.ok) {
          setProgress(100);
          form.setAttribute("data-uploaded", "true");
          window.location.assign(body.redirect);
          return;
        }
        button.disabled = false;
        progress.hidden = true;
        if (body && body.errors) {
          showErrors(body.errors);
        } else if (xhr.status === 413) {
          showErrors(["The file is larger than the server accepts."]);
        } else {
          showErrors(["The upload failed (HTTP " + xhr.status + "). Nothing was kept; try again."]);
        }
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        progress.hidden = true;
        showErrors(["The connection was lost during the upload. Nothing was kept; try again."]);
      });
      xhr.send(new FormData(form));
    });
  }

  document.querySelectorAll("[data-upload-form]").forEach(setup);
})();
