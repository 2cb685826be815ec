// The live decisions dashboard: polls /api/summary and /api/series, draws them with Chart.js, and lists
// decisions (/api/decisions) with their details (/api/decisions/<id>). Text goes into the page with
// textContent only: ids and reasons come from applicants' data.
"use strict";

const COLORS = { APPROVE: "#2e7d32", REVIEW: "#f9a825", DECLINE: "#c62828" };
const PALETTE = ["#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#ad1457", "#558b2f", "#37474f"];
const DECISIONS = ["APPROVE", "REVIEW", "DECLINE"];
const refreshMs = 1000 * Number(document.body.dataset.refreshS || 5);
const $ = (id) => document.getElementById(id);
const charts = {};

function color(name, i) { return COLORS[name] || PALETTE[i % PALETTE.length]; }
function fmt(n, digits = 0) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString(undefined, { maximumFractionDigits: digits });
}
function clock(ts) { return new Date(ts * 1000).toLocaleTimeString([], { hour12: false }); }

function makeChart(id, type, options = {}) {
  charts[id] = new Chart($(id), {
    type,
    data: { labels: [], datasets: [] },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 10 } } } },
      scales: { x: { ticks: { maxTicksLimit: 6, font: { size: 10 } } }, y: { beginAtZero: true, ticks: { font: { size: 10 } } } },
      ...options,
    },
  });
}

// Replace a chart's lines, keeping dataset objects (and so hidden-by-legend state) by name.
function setData(id, labels, lines, extra = () => ({})) {
  const chart = charts[id];
  chart.data.labels = labels;
  chart.data.datasets = Object.entries(lines).map(([name, data], i) => {
    const old = chart.data.datasets.find((d) => d.label === name) || {};
    return Object.assign(old, { label: name || "all", data, borderColor: color(name, i),
      backgroundColor: color(name, i), pointRadius: 0, borderWidth: 2, spanGaps: false }, extra(name, i));
  });
  chart.update("none");
}

function initCharts() {
  makeChart("c-rate", "line", { plugins: { legend: { display: false } } });
  makeChart("c-mix", "line", { scales: { x: { ticks: { maxTicksLimit: 6 } }, y: { stacked: true, beginAtZero: true } } });
  makeChart("c-grade", "bar", { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } });
  makeChart("c-reasons", "bar", { indexAxis: "y", plugins: { legend: { display: false } },
    scales: { x: { beginAtZero: true }, y: { ticks: { font: { size: 9 } } } } });
  makeChart("c-dlq", "line");
  makeChart("c-latency", "line");
  makeChart("c-lag", "line", { plugins: { legend: { display: false } } });
  makeChart("c-pd", "bar", { plugins: { legend: { display: false } } });
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

function showSummary(s) {
  $("t-rate").textContent = fmt(s.applicants_per_s, 1);
  $("t-decided").textContent = fmt(s.applicants_decided);
  for (const d of DECISIONS) $("t-" + d).textContent = fmt(s.decisions[d] || 0);
  $("t-dlq").textContent = fmt(Object.values(s.dead_letters).reduce((a, b) => a + b, 0));
  $("t-lag").textContent = fmt(s.kafka_lag);
  $("t-latency").textContent = s.latency_p50_s === null ? "–" : `${fmt(s.latency_p50_s, 2)} / ${fmt(s.latency_p99_s, 2)} s`;
  const served = s.served_versions.map((v) => `${v.model_version} · policy ${v.policy_version}`).join(", ") || "–";
  const deciding = s.deciding_versions.map((v) => `${v.model_version} (${fmt(v.applicants)})`).join(", ") || "–";
  $("versions").textContent = `serving: model ${served} — decided by: ${deciding}`;

  const grades = Object.keys(s.by_grade);
  setData("c-grade", grades, Object.fromEntries(DECISIONS.map((d) => [d, grades.map((g) => s.by_grade[g][d] || 0)])));
  setData("c-reasons", s.decline_reasons.map((r) => r.code), { declines: s.decline_reasons.map((r) => r.count) },
    () => ({ backgroundColor: COLORS.DECLINE }));
  setData("c-pd", s.pd_histogram.map((b) => `${b.from.toFixed(2)}–${b.to === null ? "1" : b.to.toFixed(2)}`),
    { applicants: s.pd_histogram.map((b) => b.count) }, () => ({ backgroundColor: "#1565c0" }));
}

function showSeries(s) {
  const labels = s.timestamps.map(clock);
  setData("c-rate", labels, s.applicants_per_s);
  setData("c-mix", labels, s.decision_mix, () => ({ fill: true }));
  setData("c-dlq", labels, s.dead_letters);
  setData("c-latency", labels, { p50: s.latency_p50_s[""] || [], p99: s.latency_p99_s[""] || [] });
  setData("c-lag", labels, s.kafka_lag);
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
  $("live").classList.toggle("stale", Boolean(message));
}

async function refresh() {
  try {
    const [summary, series] = await Promise.all([getJson("/api/summary"), getJson(`/api/series?minutes=${$("window").value}`)]);
    showSummary(summary);
    showSeries(series);
    showError(null);
    document.body.dataset.loaded = "true";
  } catch (e) {
    showError(`cannot read the metrics: ${e.message}`);
  }
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
}

async function loadDecisions() {
  const q = $("q").value.trim();
  try {
    const body = await getJson(`/api/decisions?q=${encodeURIComponent(q)}`);
    const tbody = $("decisions").tBodies[0];
    tbody.replaceChildren();
    for (const d of body.decisions) {
      const row = tbody.insertRow();
      row.dataset.id = d.application_id;
      cell(row, d.application_id);
      cell(row, d.decision, d.decision);
      cell(row, d.probability_of_default === null ? "–" : d.probability_of_default.toFixed(3));
      cell(row, d.reasons.join(", "));
      cell(row, new Date(d.saved_at_ms).toLocaleTimeString([], { hour12: false }));
      row.addEventListener("click", () => openDecision(d.application_id));
    }
  } catch (e) {
    showError(`cannot list decisions: ${e.message}`);
  }
}

async function openDecision(id) {
  try {
    const d = await getJson(`/api/decisions/${encodeURIComponent(id)}`);
    $("d-id").textContent = d.application_id;
    const fields = {
      decision: d.decision, "decided by": d.decided_by,
      "probability of default": d.probability_of_default === null ? "– (pre-screen)" : d.probability_of_default.toFixed(4),
      "model version": d.model_version || "– (pre-screen)", "policy version": d.policy_version,
      "Kafka record": `${d.source.topic} / partition ${d.source.partition} / offset ${d.source.offset}`,
      "Kafka timestamp": new Date(d.kafka_ts_ms).toISOString(), "saved to HBase": new Date(d.saved_at_ms).toISOString(),
      "end-to-end latency": `${d.latency_ms} ms`,
    };
    const dl = $("d-fields");
    dl.replaceChildren();
    for (const [k, v] of Object.entries(fields)) {
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v;
      if (k === "decision") dd.className = v;
      dl.append(dt, dd);
    }
    $("d-reasons").replaceChildren(...d.reasons.map((r) => {
      const li = document.createElement("li"); li.textContent = `${r.code}: ${r.text}`; return li;
    }));
    const tbody = $("d-applicant").tBodies[0];
    tbody.replaceChildren();
    for (const [k, v] of Object.entries(d.applicant)) {
      const row = tbody.insertRow(); cell(row, k); cell(row, v === null ? "–" : String(v));
    }
    $("detail").hidden = false;
    $("detail").dataset.id = d.application_id;
  } catch (e) {
    showError(`cannot open ${id}: ${e.message}`);
  }
}

initCharts();
$("search").addEventListener("submit", (e) => { e.preventDefault(); loadDecisions(); });
$("window").addEventListener("change", refresh);
refresh();
loadDecisions();
setInterval(refresh, refreshMs);
setInterval(() => { if (!$("q").value.trim()) loadDecisions(); }, 2 * refreshMs);
