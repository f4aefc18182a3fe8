// Counts script errors and blocked requests on the body element so a test can read them from the DOM.
(function () {
  var errors = [];
  function mark(kind, text) {
    errors.push(kind + ": " + text);
    var b = document.body;
    if (!b) { return; }
    if (kind === "blocked") {
      b.dataset.blocked = String(Number(b.dataset.blocked || 0) + 1);
    } else {
      b.dataset.errors = String(Number(b.dataset.errors || 0) + 1);
    }
    b.dataset.errorText = errors.join(" | ");
  }
  window.addEventListener("error", function (e) {
    mark("error", (e.message || "error") + " at " + (e.lineno || 0) + ":" + (e.colno || 0));
  });
  window.addEventListener("unhandledrejection", function (e) { mark("error", String(e.reason)); });
  document.addEventListener("securitypolicyviolation", function (e) {
    mark("blocked", e.blockedURI + " (" + e.violatedDirective + ")");
  });
  window.__pictureErrors = errors;
})();
