// "Copy" buttons of the citation box: copy the text of the field a button names.
// Without this script the fields stay readable and selectable; the buttons stay hidden.
"use strict";
(function () {
  var status = document.getElementById("copy-status");
  function say(message) { if (status) { status.textContent = message; } }
  function fallback(field) {
    field.focus();
    field.select();
    return document.execCommand && document.execCommand("copy");
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var label = button.textContent.replace(/^Copy /, "");
      var done = function () { say(label + " citation copied."); };
      var failed = function () {
        say(fallback(field) ? label + " citation copied." : "Select the text and copy it.");
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, failed);
      } else {
        failed();
      }
    });
  });
})();
