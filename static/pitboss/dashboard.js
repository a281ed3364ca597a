/* The start page's money charts (templates/admin/reports/dashboard.html): per currency, the deposits per day as
   bars and GGR and NGR as lines, over the last 30 days. The data is the page's json_script element
   "dashboard-money-data" (apps/reports/dashboard.py Money.chart: money as exact strings, turned into numbers here
   only to draw; the exact totals are in the table beside each chart). Chart.js is the copy unfold ships and loads
   on every admin page (unfold/js/chart/chart.js): nothing comes from another origin, and no script is inline
   (the CSP). The grid follows unfold's light and dark themes. */
(function () {
  "use strict";

  // NGR is dashed: without bonuses it equals GGR, and a solid line would hide the other
  var SERIES = [
    { key: "ggr", label: "GGR", type: "line", color: "#9333ea" },
    { key: "ngr", label: "NGR", type: "line", color: "#16a34a", dash: [6, 4] },
    { key: "deposits", label: "Deposits", type: "bar", color: "#60a5fa" },
  ];
  var TEXT = "#9ca3af";

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

  function amount(currency) {
    var format = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 2 });
    return function (value) {
      return currency + " " + format.format(value);
    };
  }

  function datasets(values) {
    return SERIES.map(function (series) {
      var line = series.type === "line";
      return {
        type: series.type,
        label: series.label,
        data: values[series.key].map(Number),
        backgroundColor: series.color,
        borderColor: series.color,
        borderWidth: line ? 2 : 0,
        borderDash: series.dash || [],
        borderRadius: line ? 0 : 2,
        pointRadius: line ? 2 : 0,
        tension: 0.2,
        maxBarThickness: 16,
        order: series.key === "ngr" ? 0 : line ? 1 : 2, // the lines over the bars, NGR's dashes over GGR
      };
    });
  }

  function options(currency) {
    var money = amount(currency);
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: {
          position: "top",
          align: "end",
          // in the caption's order (Chart.js would sort by drawing order)
          labels: {
            color: TEXT,
            boxWidth: 8,
            boxHeight: 8,
            usePointStyle: true,
            pointStyle: "circle",
            sort: function (a, b) {
              return a.datasetIndex - b.datasetIndex;
            },
          },
        },
        tooltip: {
          callbacks: {
            label: function (item) {
              return item.dataset.label + ": " + money(item.parsed.y);
            },
          },
        },
      },
      scales: {
        x: {
          grid: { display: false },
          border: { display: false },
          ticks: { color: TEXT, maxRotation: 0, autoSkip: true, maxTicksLimit: 8 },
        },
        y: {
          grid: { color: gridColor() },
          border: { display: false },
          title: { display: true, text: currency, color: TEXT },
          ticks: { color: TEXT },
        },
      },
    };
  }

  function draw() {
    var source = document.getElementById("dashboard-money-data");
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var labels = data.days.map(dayLabel);
    var charts = [];
    document.querySelectorAll("canvas[data-dashboard-chart]").forEach(function (canvas) {
      var currency = canvas.dataset.currency;
      var values = data.money[currency];
      if (!values) {
        return;
      }
      charts.push(
        new Chart(canvas.getContext("2d"), {
          type: "bar",
          data: { labels: labels, datasets: datasets(values) },
          options: options(currency),
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
