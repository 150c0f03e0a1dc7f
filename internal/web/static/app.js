// Canopy's few behaviours that need a script (the CSP allows only files
// served by Canopy itself): copy to clipboard, confirmation prompts, and a
// delete button that waits for the typed name.
document.addEventListener("click", function (e) {
  var copy = e.target.closest("[data-copy]");
  if (copy) {
    var field = document.querySelector(copy.getAttribute("data-copy"));
    if (!field) return;
    var text = field.value || field.textContent;
    var done = function () {
      var label = copy.textContent;
      copy.textContent = "Copied";
      setTimeout(function () { copy.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { field.select(); document.execCommand("copy"); done(); });
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
    return;
  }
  var confirmer = e.target.closest("[data-confirm]");
  if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
    e.preventDefault();
  }
});

function checkTyped(input) {
  var button = document.querySelector(input.getAttribute("data-enables"));
  if (button) button.disabled = input.value.trim() !== input.getAttribute("data-must-equal");
}
document.addEventListener("input", function (e) {
  if (e.target.matches && e.target.matches("[data-must-equal]")) checkTyped(e.target);
});
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-must-equal]").forEach(checkTyped);
});
