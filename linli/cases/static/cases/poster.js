/* The poster's print button (no inline handlers under the strict CSP). */
(function () {
  "use strict";
  var button = document.getElementById("print-btn");
  if (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  }
})();
