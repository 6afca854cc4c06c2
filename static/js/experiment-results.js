// Charts of the experiment results page (admin): the stored results, drawn with Chart.js.
(function () {
  "use strict";
  const source = document.getElementById("xp-results-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = ["#5f5f66", "#b0124f", "#1a73e8", "#1b6b3a", "#c97a00", "#6a3d9a"];

  const primary = data.metrics && data.metrics[0];
  const primaryCanvas = document.getElementById("xp-primary-chart");
  if (primary && primaryCanvas) {
    const isRate = primary.kind === "rate";
    const scale = isRate ? 100 : 1;
    const control = primary.variants.find((row) => row.is_control);
    // The interval of each variant's own value: control +/- the comparison's absolute CI is
    // the treatment's interval relative to the control, which is what the decision rests on.
    const intervals = primary.variants.map((row) => {
      if (row.is_control || !control) return null;
      const comparison = primary.comparisons.find((c) => c.variant === row.key);
      if (!comparison || !comparison.absolute_ci) return null;
      return [(control.value + comparison.absolute_ci[0]) * scale,
              (control.value + comparison.absolute_ci[1]) * scale];
    });
    new window.Chart(primaryCanvas, {
      data: {
        labels: primary.variants.map((row) => row.key + (row.is_control ? " (control)" : "")),
        datasets: [
          { type: "bar", label: isRate ? "Rate (%)" : "Mean per person",
            data: primary.variants.map((row) => row.value * scale),
            backgroundColor: primary.variants.map((_, i) => colours[i % colours.length] + "99") },
          { type: "bar", label: "95% CI of the difference, around the control",
            data: intervals, backgroundColor: "rgba(0,0,0,0)", borderColor: "#1d1d1f",
            borderWidth: 2, borderSkipped: false, barPercentage: 0.15 },
        ],
      },
      options: { responsive: true, animation: false, scales: { x: { stacked: true }, y: { beginAtZero: true } } },
    });
  }

  const dailyCanvas = document.getElementById("xp-daily-chart");
  if (dailyCanvas && data.daily) {
    new window.Chart(dailyCanvas, {
      type: "line",
      data: {
        labels: data.daily.dates,
        datasets: Object.entries(data.daily.series).map(([key, counts], i) => ({
          label: key, data: counts, borderColor: colours[i % colours.length], tension: 0.2,
        })),
      },
      options: { responsive: true, animation: false, scales: { y: { beginAtZero: true } } },
    });
  }
  document.documentElement.dataset.resultsCharts = "drawn";
})();
