// The player page's deferred sections (apps.players.page, issue 12's page budget): each placeholder fetches its
// section from the admin's section view when it comes near the viewport and puts it in its own place. Without
// JavaScript the placeholder's link opens the section as a page. A 204 means the viewer may not see the section.
(function () {
  "use strict";

  function failed(holder) {
    holder.dataset.state = "failed";
    holder.removeAttribute("aria-busy");
    var status = holder.querySelector(".player-deferred-status");
    if (status) status.insertAdjacentText("afterbegin", "The section could not be loaded. ");
  }

  function load(holder) {
    if (holder.dataset.state) return;
    holder.dataset.state = "loading";
    holder.setAttribute("aria-busy", "true");
    fetch(holder.dataset.url, { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" } })
      .then(function (response) {
        if (response.status === 204) {
          holder.remove();
          return null;
        }
        if (!response.ok || response.redirected) throw new Error(String(response.status)); // e.g. signed out
        return response.text().then(function (html) {
          holder.innerHTML = html;
          holder.dataset.state = "loaded";
          holder.removeAttribute("aria-busy");
        });
      })
      .catch(function () {
        failed(holder);
      });
  }

  function start() {
    var holders = Array.prototype.slice.call(document.querySelectorAll(".player-deferred[data-url]"));
    if (!("IntersectionObserver" in window)) {
      holders.forEach(load);
      return;
    }
    var observer = new IntersectionObserver(
      function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            observer.unobserve(entry.target);
            load(entry.target);
          }
        });
      },
      { rootMargin: "400px 0px" }
    );
    holders.forEach(function (holder) {
      observer.observe(holder);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
