// The header search box as an ARIA 1.2 combobox. htmx fetches the options as the visitor types;
// this file only adds the keyboard (arrows, Enter, Escape) and the open/closed state.
(function () {
  "use strict";

  function setup(input) {
    var listbox = document.getElementById(input.getAttribute("aria-controls"));
    var active = -1;

    function options() { return Array.prototype.slice.call(listbox.querySelectorAll('[role="option"]')); }

    function activate(index) {
      var all = options();
      all.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.setAttribute("aria-activedescendant", "");
      }
    }

    function open(show) {
      listbox.hidden = !show;
      input.setAttribute("aria-expanded", show ? "true" : "false");
      if (!show) activate(-1);
    }

    document.body.addEventListener("htmx:afterSettle", function (event) {
      if (event.detail.target !== listbox) return;
      activate(-1);  // new options reuse the old ids: nothing may stay announced as chosen
      open(options().length > 0 && document.activeElement === input && input.value.trim() !== "");
    });

    input.addEventListener("keydown", function (event) {
      var all = options();
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!all.length) return;
        event.preventDefault();
        if (listbox.hidden) open(true);
        var step = event.key === "ArrowDown" ? 1 : -1;
        activate(active < 0 && step < 0 ? all.length - 1 : (active + step + all.length) % all.length);
      } else if (event.key === "Enter") {
        if (!listbox.hidden && active >= 0 && all[active]) {
          event.preventDefault();  // go to the chosen item instead of submitting the search
          window.location.assign(all[active].dataset.href);
        }
      } else if (event.key === "Escape") {
        if (!listbox.hidden) { event.preventDefault(); open(false); } else { input.value = ""; listbox.innerHTML = ""; }
      }
    });

    input.addEventListener("input", function () { if (input.value.trim() === "") open(false); });
    // Keep the focus in the input when an option is pressed (a blur would close the list first).
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option && option.dataset.href) window.location.assign(option.dataset.href);
    });
    input.addEventListener("blur", function () { open(false); });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-combobox]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
