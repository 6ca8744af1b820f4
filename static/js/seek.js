// A link to a moment ("#t=62.5", from a search hit inside captions) starts the page's player there.
(function () {
  "use strict";
  var match = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
  var player = document.querySelector(".player video, .player audio");
  if (!match || !player) return;
  var seconds = parseFloat(match[1]);
  function seek() { player.currentTime = seconds; }
  if (player.readyState >= 1) seek(); else player.addEventListener("loadedmetadata", seek, { once: true });
})();
