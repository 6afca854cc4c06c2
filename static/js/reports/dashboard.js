// A report's chart, drawn by Chart.js (vendored, loaded before this module as window.Chart)
// from the JSON the page embeds. The table below the chart holds the same numbers.

const PALETTE = ["#d6336c", "#1c7ed6", "#2f9e44", "#f08c00", "#7048e8", "#0c8599",
  "#e8590c", "#5c940d", "#ae3ec9", "#495057", "#c2255c", "#1864ab"];

function draw() {
  const canvas = document.getElementById("report-chart");
  const source = document.getElementById("report-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const spec = JSON.parse(source.textContent);
  const datasets = spec.datasets.map((dataset, index) => ({
    ...dataset,
    borderColor: PALETTE[index % PALETTE.length],
    backgroundColor: PALETTE[index % PALETTE.length] + (spec.type === "line" ? "33" : "cc"),
    spanGaps: false,
    tension: 0.2,
    pointRadius: spec.labels.length > 60 ? 0 : 2,
  }));
  const percent = Boolean(spec.percent);
  const chart = new window.Chart(canvas, {
    type: spec.type,
    data: { labels: spec.labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: spec.indexAxis || "x",
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: Boolean(spec.stacked), ticks: { autoSkip: true, maxRotation: 0 } },
        y: {
          stacked: Boolean(spec.stacked),
          beginAtZero: true,
          ticks: percent ? { callback: (value) => `${value}%` } : {},
        },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
  canvas.dataset.ready = "true";
  canvas.dataset.points = String(datasets.reduce((n, d) => n + d.data.length, 0));
  return chart;
}

draw();
