/* The bonus statistics charts of a template's and a campaign's page (templates/admin/bonuses/stats_panel.html).
   The data is the page's json_script element "bonus-stats-data" (apps/bonuses/stats.py Series.chart: money as
   exact strings, turned into numbers here only to draw). Chart.js is the copy unfold ships and loads on every
   admin page (unfold/js/chart/chart.js): nothing comes from another origin. The grid follows unfold's light and
   dark themes, as unfold's own charts do. */
(function () {
  "use strict";

  var KINDS = ["awarded", "converted", "forfeited"];
  var LABELS = {
    awarded: "Awarded",
    converted: "Converted to cash",
    forfeited: "Forfeited, expired, cancelled",
  };
  // the same meaning in both themes: awards in the theme's purple, conversions green, forfeits orange
  var COLORS = { awarded: "#9333ea", converted: "#16a34a", forfeited: "#ea580c" };

  function isDark() {
    return document.documentElement.classList.contains("dark");
  }

  function gridColor() {
    var name = isDark() ? "--color-base-700" : "--color-base-200";
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || (isDark() ? "#374151" : "#e5e7eb");
  }

  function dayLabel(iso) {
    var parts = iso.split("-");
    var day = new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2]));
    return day.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  }

  function options(yTitle, integer) {
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: {
          position: "top",
          align: "end",
          labels: { color: "#9ca3af", boxWidth: 8, boxHeight: 8, usePointStyle: true, pointStyle: "circle" },
        },
        tooltip: { enabled: true },
      },
      scales: {
        x: {
          stacked: true,
          grid: { display: false },
          border: { display: false },
          ticks: { color: "#9ca3af", maxRotation: 0, autoSkip: true, maxTicksLimit: 10 },
        },
        y: {
          stacked: true,
          beginAtZero: true,
          grid: { color: gridColor() },
          border: { display: false },
          title: { display: true, text: yTitle, color: "#9ca3af" },
          ticks: { color: "#9ca3af", precision: integer ? 0 : undefined },
        },
      },
    };
  }

  // two bars a day: what was awarded, and beside it what ended (converted and forfeited stacked): the end of a
  // bonus is one or the other, so the second bar is "what became of bonuses that day"
  function datasets(values) {
    return KINDS.map(function (kind) {
      return {
        label: LABELS[kind],
        data: values[kind].map(Number),
        backgroundColor: COLORS[kind],
        borderWidth: 0,
        borderRadius: 2,
        maxBarThickness: 18,
        categoryPercentage: 0.85,
        barPercentage: 0.9,
        stack: kind === "awarded" ? "awarded" : "ended",
      };
    });
  }

  function draw() {
    var source = document.getElementById("bonus-stats-data");
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var labels = data.days.map(dayLabel);
    var charts = [];
    document.querySelectorAll("canvas[data-bonus-chart]").forEach(function (canvas) {
      var money = canvas.dataset.bonusChart === "money";
      var values = money ? data.money[canvas.dataset.currency] : data.counts;
      var moved = values && KINDS.some(function (kind) {
        return values[kind].some(function (v) { return Number(v) !== 0; });
      });
      if (!moved) {
        // an empty chart reads as broken: say there is nothing to draw (an offer campaign before any claim)
        var note = document.createElement("p");
        note.className = "text-sm text-font-subtle-light dark:text-font-subtle-dark";
        note.textContent = money
          ? "No bonus money awarded, converted or forfeited in these days."
          : "No bonus awarded, converted or forfeited in these days (offers are counted when claimed).";
        canvas.parentNode.replaceWith(note);
        return;
      }
      charts.push(
        new Chart(canvas.getContext("2d"), {
          type: "bar",
          data: { labels: labels, datasets: datasets(values) },
          options: options(money ? canvas.dataset.currency : "bonuses", !money),
        })
      );
      canvas.dataset.drawn = "true";
    });
    // unfold switches the theme by the html element's "dark" class
    new MutationObserver(function () {
      charts.forEach(function (chart) {
        chart.options.scales.y.grid.color = gridColor();
        chart.update();
      });
    }).observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
