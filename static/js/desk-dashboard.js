// The desk dashboard's charts, drawn from the figures the server embeds as JSON.
(function () {
  "use strict";
  var source = document.getElementById("desk-chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#112e51", "#205493", "#4773aa", "#8ba6ca", "#dce4ef", "#fd7e14", "#2e8540", "#981b1e", "#5b616b", "#aeb0b5"];
  var severityStateColors = ["#adb5bd", "#f4a259", "#4773aa", "#2e8540"];
  var common = { responsive: true, maintainAspectRatio: false, animation: false };

  new Chart(document.getElementById("chart-status"), {
    type: "doughnut",
    data: { labels: data.status.labels, datasets: [{ data: data.status.values, backgroundColor: palette }] },
    options: Object.assign({}, common, { plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } } })
  });

  new Chart(document.getElementById("chart-aging"), {
    type: "bar",
    data: { labels: data.aging.labels, datasets: [{ label: "Open cases", data: data.aging.values, backgroundColor: "#205493" }] },
    options: Object.assign({}, common, { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } })
  });

  new Chart(document.getElementById("chart-findings"), {
    type: "bar",
    data: {
      labels: data.findings.labels,
      datasets: data.findings.states.map(function (state, i) {
        return { label: state, data: data.findings.values[i], backgroundColor: severityStateColors[i % severityStateColors.length] };
      })
    },
    options: Object.assign({}, common, {
      plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } },
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    })
  });
})();
