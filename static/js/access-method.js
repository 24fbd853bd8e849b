// The access form shows only the chosen method's fields. Without this script
// every method's fieldset is shown, each under its legend, and the server
// reads only the chosen one's; with it, the others are hidden and disabled.
(function () {
  "use strict";
  var form = document.querySelector("[data-access-form]");
  if (!form) return;
  var radios = form.querySelectorAll("input[type=radio][name=method]");
  var groups = form.querySelectorAll("fieldset[data-access-method]");

  function show() {
    var chosen = form.querySelector("input[type=radio][name=method]:checked");
    Array.prototype.forEach.call(groups, function (group) {
      var open = chosen !== null && group.getAttribute("data-access-method") === chosen.value;
      group.hidden = !open;
      group.disabled = !open;
    });
  }

  Array.prototype.forEach.call(radios, function (radio) {
    radio.setAttribute("aria-controls", "access-method-" + radio.value);
    radio.addEventListener("change", show);
  });
  show();
})();
