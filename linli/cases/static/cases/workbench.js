/* Workbench queue: "select all" for bulk assignment (the boxes belong to #bulk-form). Delegated, so it
 * keeps working after htmx swaps the results. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all || all.id !== "bulk-all") return;
    Array.prototype.forEach.call(document.querySelectorAll('input[name="ids"][form="bulk-form"]'), function (box) {
      box.checked = all.checked;
    });
  });
})();
