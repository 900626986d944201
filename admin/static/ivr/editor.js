/* IVR editor: expand/collapse the tree, open a node's inline editor, play "listen" audio. No libraries. */
(function () {
  "use strict";
  var editor = document.getElementById("ivr-editor");
  if (!editor) { return; }

  function setCollapsed(li, collapsed) {
    li.classList.toggle("collapsed", collapsed);
    var toggle = li.querySelector(":scope > .ivr-node-head > .ivr-toggle");
    if (toggle) {
      toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
      toggle.textContent = collapsed ? "▸" : "▾";
    }
  }

  editor.addEventListener("click", function (ev) {
    var target = ev.target;
    if (target.classList.contains("ivr-toggle")) {
      var li = target.closest(".ivr-node");
      setCollapsed(li, !li.classList.contains("collapsed"));
    } else if (target.classList.contains("ivr-edit-toggle")) {
      var panel = target.closest(".ivr-node").querySelector(":scope > .ivr-edit");
      panel.hidden = !panel.hidden;
      if (!panel.hidden) {
        var first = panel.querySelector("textarea, input:not([type=hidden])");
        if (first) { first.focus(); }
      }
    } else if (target.classList.contains("ivr-listen")) {
      listen(target.getAttribute("data-src"));
    } else if (target.id === "expand-all" || target.id === "collapse-all") {
      var collapse = target.id === "collapse-all";
      editor.querySelectorAll(".ivr-node").forEach(function (li) {
        if (li.querySelector(":scope > .ivr-children")) { setCollapsed(li, collapse); }
      });
    }
  });

  editor.addEventListener("submit", function (ev) {
    var message = ev.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { ev.preventDefault(); }
  });

  var player = document.getElementById("ivr-player");
  var playerError = document.getElementById("ivr-player-error");

  function listen(src) {
    playerError.hidden = true;
    // Ask first, so a refusal (no text in this language, TTS failure) shows its reason instead of a silent player.
    fetch(src, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) { throw new Error(text || response.statusText); });
      }
      return response.blob();
    }).then(function (blob) {
      if (player.src && player.src.indexOf("blob:") === 0) { URL.revokeObjectURL(player.src); }
      player.src = URL.createObjectURL(blob);
      player.setAttribute("data-loaded", src);
      var played = player.play();
      if (played && played.catch) { played.catch(function () { /* autoplay refused: the controls remain */ }); }
    }).catch(function (err) {
      playerError.textContent = err.message;
      playerError.hidden = false;
    });
  }

  // Open the node named in the URL (after a save the page comes back to it).
  if (location.hash.indexOf("#node-") === 0) {
    var node = document.getElementById(location.hash.slice(1));
    if (node) { node.classList.add("ivr-focus"); node.scrollIntoView({block: "center"}); }
  }
})();
