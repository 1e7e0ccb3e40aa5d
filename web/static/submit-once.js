// Progressive enhancement only: the forms work without it. A second tap would be harmless
// anyway (the hidden submission_id makes a resubmission the same submission).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-submit-once")) return;
  var button = form.querySelector("button[type=submit]");
  if (!button) return;
  setTimeout(function () { button.disabled = true; }, 0);
});
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-submit-once] button[disabled]").forEach(function (b) {
    b.disabled = false;
  });
});
