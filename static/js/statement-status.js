// While a clearance statement is being signed, ask the portal how signing goes
// every few seconds and update its status region in place (an aria-live region,
// so the change is announced), until the signed PDF is ready.
(function () {
  "use strict";
  var EVERY_MS = 3000;

  function poll(region) {
    var url = region.getAttribute("data-status-url");
    if (!url) {
      return;
    }
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("[data-testid=signing-status]");
          if (!fresh) {
            return;
          }
          if (fresh.innerHTML.trim() !== region.innerHTML.trim()) {
            region.innerHTML = fresh.innerHTML;
          }
          var next = fresh.getAttribute("data-status-url");
          if (next) {
            region.setAttribute("data-status-url", next);
          } else {
            region.removeAttribute("data-status-url");
          }
          poll(region);
        })
        .catch(function () {
          poll(region); // a dropped connection: try again on the next round
        });
    }, EVERY_MS);
  }

  document.querySelectorAll("[data-testid=signing-status][data-status-url]").forEach(poll);
})();
