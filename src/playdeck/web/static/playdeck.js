// Playdeck's only script: progressive enhancement, the pages work without it.
// - <time datetime> elements: the viewer's locale and time zone, and "3 hours ago" where marked.
// - command blocks: a copy button.
// - the header's user menu (a <details>): closes on Escape and on a click elsewhere.
// - a page that shows a secret once (a new API key): reloading it must not post its form again.
// - the page of a running run (data-live-poll): asks for itself again every few seconds and,
//   when it changed (data-live-signature), swaps its live regions in place; stops once done.
// - screenshot thumbnails (a[data-lightbox]): open full size in a <dialog>; without the script
//   the link opens the image itself.
(function () {
  "use strict";

  var UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];

  function relative(date, now, format) {
    var seconds = (date.getTime() - now) / 1000;
    for (var i = 0; i < UNITS.length; i++) {
      var unit = UNITS[i];
      if (Math.abs(seconds) >= unit[1] || unit[0] === "second") {
        return format.format(Math.round(seconds / unit[1]), unit[0]);
      }
    }
    return "";
  }

  function localiseTimes(root) {
    var absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    var rtf = typeof Intl.RelativeTimeFormat === "function"
      ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
      : null;
    var now = Date.now();
    var nodes = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var date = new Date(node.getAttribute("datetime"));
      if (isNaN(date.getTime())) continue;
      var local = absolute.format(date);
      if (node.hasAttribute("data-relative") && rtf) {
        node.textContent = relative(date, now, rtf);
        node.title = local;
      } else {
        node.textContent = local;
        node.title = date.toISOString();
      }
    }
  }

  function addCopyButtons(root) {
    if (!navigator.clipboard) return;
    var blocks = root.querySelectorAll("pre.command");
    for (var i = 0; i < blocks.length; i++) {
      (function (pre) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "copy-button";
        button.textContent = "Copy";
        button.addEventListener("click", function () {
          navigator.clipboard.writeText(pre.innerText.trim()).then(function () {
            button.textContent = "Copied";
            setTimeout(function () { button.textContent = "Copy"; }, 1500);
          }, function () {
            button.textContent = "Copy failed";
          });
        });
        pre.parentNode.insertBefore(button, pre);
      })(blocks[i]);
    }
  }

  function closeMenusOnEscapeAndOutsideClicks() {
    document.addEventListener("click", function (event) {
      var menus = document.querySelectorAll("details.user-menu__panel[open]");
      for (var i = 0; i < menus.length; i++) {
        if (!menus[i].contains(event.target)) menus[i].open = false;
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      var menu = document.querySelector("details.user-menu__panel[open]");
      if (!menu) return;
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  }

  // The answer to a form post that shows a secret (data-replace-url) becomes, in the history,
  // the page's plain GET address: reload or back shows the list, never the secret again, and
  // does not create another one.
  function forgetPostedSecrets() {
    var marked = document.querySelector("[data-replace-url]");
    if (!marked || !window.history || !history.replaceState) return;
    var url = marked.getAttribute("data-replace-url");
    if (url && url.charAt(0) === "/" && url.charAt(1) !== "/") history.replaceState(null, "", url);
  }

  function swapLiveRegions(fresh) {
    var regions = fresh.querySelectorAll("[data-live-region][id]");
    for (var i = 0; i < regions.length; i++) {
      var current = document.getElementById(regions[i].id);
      if (!current) continue;
      var next = document.importNode(regions[i], true);
      current.parentNode.replaceChild(next, current);
      localiseTimes(next);
    }
  }

  function followLiveRun() {
    var head = document.querySelector("[data-live-poll]");
    if (!head || !window.fetch || !window.DOMParser) return;
    var seconds = parseFloat(head.getAttribute("data-live-poll")) || 5;
    var signature = head.getAttribute("data-live-signature");

    function schedule() { setTimeout(poll, seconds * 1000); }

    function poll() {
      if (document.hidden) return schedule();
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return schedule();
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var freshHead = fresh.querySelector("[data-live-signature]");
          if (!freshHead) return schedule();
          if (freshHead.getAttribute("data-live-signature") !== signature) {
            signature = freshHead.getAttribute("data-live-signature");
            swapLiveRegions(fresh);
            head.setAttribute("data-live-signature", signature);
          }
          if (freshHead.hasAttribute("data-live-poll")) {
            schedule();
          } else {
            head.removeAttribute("data-live-poll");  // the run is done: nothing more will change
          }
        }, schedule);
    }

    schedule();
  }

  function lightbox() {
    var dialog = document.getElementById("lightbox");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var image = dialog.querySelector(".lightbox__image");
    var caption = dialog.querySelector(".lightbox__caption");
    var opener = null;
    document.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
      var link = event.target.closest ? event.target.closest("a[data-lightbox]") : null;
      if (!link) return;
      event.preventDefault();
      var thumb = link.querySelector("img");
      image.src = link.getAttribute("href");
      image.alt = thumb ? thumb.alt : "";
      caption.textContent = thumb ? thumb.alt : "";
      opener = link;
      dialog.showModal();
    });
    // A click on the backdrop (outside the dialog's box) closes it too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    dialog.addEventListener("close", function () {
      image.removeAttribute("src");
      if (opener) opener.focus();
    });
  }

  function start() {
    lightbox();
    localiseTimes(document);
    addCopyButtons(document);
    closeMenusOnEscapeAndOutsideClicks();
    forgetPostedSecrets();
    followLiveRun();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
