// Storm UI pages: each page fetches Storm UI's REST API, renders tables and the graph, and refreshes itself.
// Every value goes into the page through textContent, never as HTML.
"use strict";

const params = new URLSearchParams(location.search);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const refreshSecs = Number(document.querySelector('meta[name="refresh-secs"]').content) || 10;
const enc = encodeURIComponent;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function link(text, href) { return el("a", {href}, text); }

function setBanner(message) {
  const banner = document.getElementById("banner");
  banner.hidden = !message;
  banner.textContent = message || "";
}

async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    setBanner("The Storm UI server does not answer: " + error);
    throw error;
  }
  const body = await response.json().catch(() => ({}));
  if (response.status === 503) {
    setBanner("Nimbus is down or unreachable: the figures below are not current. " + (body.detail || ""));
    throw new Error(body.detail || "Nimbus unavailable");
  }
  if (!response.ok) throw Object.assign(new Error(body.detail || response.statusText), {status: response.status, body});
  setBanner("");
  return body;
}

// columns: [key, label, format?(value, row) -> string|Node, className?]
function table(columns, rows, empty) {
  if (!rows || rows.length === 0) return el("div", {class: "empty"}, empty || "none");
  const head = el("tr", {}, ...columns.map(([key, label, , cls]) => el("th", {class: cls || ""}, label || key)));
  const body = rows.map(row => el("tr", {}, ...columns.map(([key, , format, cls]) =>
    el("td", {class: cls || "", "data-field": key}, format ? format(row[key], row) : (row[key] ?? "")))));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
}

function fill(id, node) { const target = document.getElementById(id); target.replaceChildren(node); }

function errorCell(value, row) {
  if (!value) return "";
  const lines = String(value).split("\n");
  const details = el("details", {}, el("summary", {}, lines[0].slice(0, 160)), el("pre", {}, value));
  const logLink = row.errorWorkerLogLink || row.workerLogLink;
  const where = row.errorHost ? ` on ${row.errorHost}:${row.errorPort}, ${when(row.errorTime)}` : "";
  return el("span", {}, details, where, " ", logLink ? link("worker log", logLink) : "");
}

function when(secs) { return secs ? new Date(secs * 1000).toLocaleString() : ""; }

function currentWindow() { return params.get("window") || ":all-time"; }

function setupWindowSelector(render) {
  const select = document.getElementById("window");
  if (!select) return;
  select.value = currentWindow();
  select.addEventListener("change", () => {
    params.set("window", select.value);
    history.replaceState(null, "", "?" + params.toString());
    render();
  });
}

function every(render) {
  const run = () => render().then(
    () => { document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString(); },
    error => { console.error(error); if (error.status) setBanner(error.message); });
  run();
  setInterval(() => { if (document.getElementById("autorefresh").checked) run(); }, refreshSecs * 1000);
}

// ---- cluster home ----
async function renderIndex() {
  const [cluster, nimbus, topologies, supervisors] = await Promise.all([
    api("/api/v1/cluster/summary"), api("/api/v1/nimbus/summary"),
    api("/api/v1/topology/summary"), api("/api/v1/supervisor/summary")]);
  fill("cluster", table([["stormVersion", "Version", null, "text"], ["nimbusUptime", "Nimbus uptime"],
    ["supervisors", "Supervisors"], ["slotsUsed", "Used slots"], ["slotsFree", "Free slots"],
    ["slotsTotal", "Total slots"], ["executorsTotal", "Executors"], ["tasksTotal", "Tasks"],
    ["memAssignedPercentUtil", "Memory assigned %"], ["cpuAssignedPercentUtil", "CPU assigned %"]], [cluster]));
  fill("nimbuses", table([["host", "Host", null, "text"], ["port", "Port"], ["status", "Status", null, "text"],
    ["version", "Version"], ["nimbusUpTime", "Uptime"],
    ["nimbusLogLink", "Log", v => v ? link("nimbus.log", v) : ""]], nimbus.nimbuses));
  fill("topologies", table([["name", "Name", (v, r) => link(v, "/topology.html?id=" + enc(r.id)), "text"],
    ["id", "Id", null, "text"], ["owner", "Owner", null, "text"], ["status", "Status", null, "text"],
    ["uptime", "Uptime"], ["workersTotal", "Workers"], ["executorsTotal", "Executors"], ["tasksTotal", "Tasks"],
    ["assignedTotalMem", "Assigned mem (MB)"], ["schedulerInfo", "Scheduler info", null, "text"]],
    topologies.topologies, "no topology is running (make demo submits loan-risk)"));
  fill("supervisors", table([["id", "Id", null, "text"], ["host", "Host", null, "text"], ["uptime", "Uptime"],
    ["slotsTotal", "Slots"], ["slotsUsed", "Used slots"], ["usedMem", "Used mem (MB)"],
    ["totalMem", "Total mem (MB)"], ["usedCpu", "Used CPU %"], ["version", "Version"]], supervisors.supervisors));
}

// ---- topology page ----
const topologyId = params.get("topology_id") || params.get("id");
let lastTopology = null;

// The worker logs of the workers that run a component (from the topology's workers' componentNumTasks).
function workerLogsCell(_, row) {
  const id = row.spoutId || row.boltId;
  const workers = (lastTopology ? lastTopology.workers : []).filter(w => (w.componentNumTasks || {})[id]);
  return el("span", {}, ...workers.map(w => link(String(w.port), w.workerLogLink)));
}

function componentLink(id) {
  return link(id, "/component.html?topology_id=" + enc(topologyId) + "&id=" + enc(id) + "&window=" + enc(currentWindow()));
}

async function renderTopology() {
  const win = currentWindow();
  const topo = await api("/api/v1/topology/" + enc(topologyId) + "?window=" + enc(win));
  lastTopology = topo;
  document.title = topo.name + " · Storm UI";
  document.getElementById("topo-name").textContent = topo.name;
  const status = document.getElementById("topo-status");
  status.textContent = topo.status; status.className = "status " + topo.status;
  document.querySelectorAll(".window-hint").forEach(n => { n.textContent = "(" + topo.windowHint + ")"; });
  document.getElementById("graph-link").href = "/visualize.html?id=" + enc(topologyId) + "&window=" + enc(win);
  fill("summary", table([["name", "Name", null, "text"], ["id", "Id", null, "text"], ["owner", "Owner", null, "text"],
    ["status", "Status", null, "text"], ["uptime", "Uptime"], ["workersTotal", "Workers"],
    ["executorsTotal", "Executors"], ["tasksTotal", "Tasks"], ["msgTimeout", "Message timeout (s)"],
    ["assignedMemOnHeap", "Assigned on-heap (MB)"], ["assignedCpu", "Assigned CPU %"]], [topo]));
  fill("stats", table([["windowPretty", "Window", (v, r) => {
      const a = link(v, "?id=" + enc(topologyId) + "&window=" + enc(r.window));
      a.addEventListener("click", e => { e.preventDefault(); document.getElementById("window").value = r.window;
        document.getElementById("window").dispatchEvent(new Event("change")); });
      return a; }, "text"],
    ["emitted", "Emitted"], ["transferred", "Transferred"], ["completeLatency", "Complete latency (ms)"],
    ["acked", "Acked"], ["failed", "Failed"]], topo.topologyStats));
  fill("spouts", table([["spoutId", "Id", componentLink, "text"], ["executors", "Executors"], ["tasks", "Tasks"],
    ["emitted", "Emitted"], ["transferred", "Transferred"], ["completeLatency", "Complete latency (ms)"],
    ["acked", "Acked"], ["failed", "Failed"], ["lastError", "Last error", errorCell, "error"],
    ["logs", "Logs", workerLogsCell]], topo.spouts));
  fill("bolts", table([["boltId", "Id", componentLink, "text"], ["executors", "Executors"], ["tasks", "Tasks"],
    ["emitted", "Emitted"], ["transferred", "Transferred"], ["capacity", "Capacity (last 10m)"],
    ["executeLatency", "Execute latency (ms)"], ["executed", "Executed"], ["processLatency", "Process latency (ms)"],
    ["acked", "Acked"], ["failed", "Failed"], ["lastError", "Last error", errorCell, "error"],
    ["logs", "Logs", workerLogsCell]], topo.bolts));
  fill("workers", table([["host", "Host", null, "text"], ["port", "Port"], ["uptime", "Uptime"],
    ["executorsTotal", "Executors"], ["assignedMemOnHeap", "Assigned on-heap (MB)"],
    ["assignedMemOffHeap", "Assigned off-heap (MB)"], ["assignedCpu", "Assigned CPU %"],
    ["componentNumTasks", "Components (tasks)", v => Object.entries(v || {}).map(([c, n]) => c + " " + n).join(", "), "text"],
    ["workerLogLink", "Log", v => v ? link("worker.log", v) : ""]], topo.workers));
  const conf = Object.keys(topo.configuration).sort().map(k => ({key: k, value: JSON.stringify(topo.configuration[k])}));
  fill("configuration", table([["key", "Key", null, "text"], ["value", "Value", null, "text"]], conf));
  await Promise.all([renderLag(), renderGraph("graph", win)]);
}

async function renderLag() {
  let lag;
  try { lag = await api("/api/v1/topology/" + enc(topologyId) + "/lag"); }
  catch (error) { fill("lag", el("div", {class: "empty"}, "lag unavailable: " + error.message)); return; }
  const rows = [];
  for (const spout of Object.values(lag)) {
    if (spout.errorInfo) rows.push({spoutId: spout.spoutId, topic: spout.topic, error: spout.errorInfo});
    for (const r of spout.spoutLagResult) rows.push({spoutId: spout.spoutId, groupId: spout.groupId, ...r});
  }
  fill("lag", table([["spoutId", "Spout", null, "text"], ["topic", "Topic", null, "text"],
    ["groupId", "Consumer group", null, "text"], ["partition", "Partition"],
    ["consumerCommittedOffset", "Committed offset", v => v ?? "none"], ["logHeadOffset", "Log-end offset"],
    ["lag", "Lag"], ["error", "Error", null, "error"]], rows, "no Kafka spout"));
}

function confirmAction(action) {
  const wait = document.getElementById("wait-secs").value || "0";
  const name = lastTopology ? lastTopology.name : topologyId;
  const texts = {activate: `Activate topology ${name}?`, deactivate: `Deactivate topology ${name}? Its spouts stop emitting.`,
    kill: `Kill topology ${name} after ${wait} s? This cannot be undone.`};
  return window.confirm(texts[action]);
}

async function postAction(action, body) {
  const wait = Number(document.getElementById("wait-secs").value || 0);
  const path = "/api/v1/topology/" + enc(topologyId) + "/" + action +
    (action === "kill" || action === "rebalance" ? "/" + wait : "");
  const result = document.getElementById("action-result");
  try {
    const answer = await api(path, {method: "POST", credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf, "Content-Type": "application/json"}, body: JSON.stringify(body || {})});
    result.textContent = `${answer.topologyOperation}: ${answer.status} at ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    result.textContent = `${action} failed: ${error.message}`;
  }
  if (action === "kill") setTimeout(() => { location.href = "/"; }, 1500); else await renderTopology().catch(() => {});
}

function openRebalance() {
  const dialog = document.getElementById("rebalance-dialog");
  const rows = (lastTopology ? [...lastTopology.spouts.map(s => [s.spoutId, s.executors]),
    ...lastTopology.bolts.map(b => [b.boltId, b.executors])] : []);
  document.getElementById("rebalance-workers").value = lastTopology ? lastTopology.workersTotal : 1;
  document.getElementById("rebalance-executors").replaceChildren(...rows.map(([id, n]) =>
    el("label", {}, id + " executors ", el("input", {type: "number", min: 1, max: 256, value: n, "data-component": id}))));
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "ok") return;
    const executors = {};
    for (const input of dialog.querySelectorAll("input[data-component]")) {
      const [id, n] = [input.dataset.component, Number(input.value)];
      if (rows.find(([c, old]) => c === id && old !== n)) executors[id] = n;
    }
    const numWorkers = Number(document.getElementById("rebalance-workers").value);
    postAction("rebalance", {rebalanceOptions: {numWorkers, executors}});
  }, {once: true});
}

function setupActions() {
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => {
      const action = button.dataset.action;
      if (action === "rebalance") openRebalance();
      else if (confirmAction(action)) postAction(action);
    });
  }
}

// ---- topology graph: components in columns by depth from the spouts, streams as curves labelled with rates ----
async function renderGraph(targetId, win) {
  const vis = await api("/api/v1/topology/" + enc(topologyId) + "/visualization?window=" + enc(win));
  drawGraph(document.getElementById(targetId), vis);
  return vis;
}

function layout(vis) {
  const names = Object.keys(vis.components).sort();
  const depth = Object.fromEntries(names.map(n => [n, 0]));
  for (let i = 0; i < names.length; i++) {
    for (const e of vis.edges) if (e.source !== e.target && depth[e.source] !== undefined && depth[e.target] <= depth[e.source])
      depth[e.target] = Math.min(depth[e.source] + 1, names.length);
  }
  const columns = {};
  for (const n of names) (columns[depth[n]] = columns[depth[n]] || []).push(n);
  const pos = {};
  for (const [d, members] of Object.entries(columns)) members.forEach((n, i) => { pos[n] = {x: 20 + d * 280, y: i * 110}; });
  return pos;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function capacityColour(capacity) { return capacity >= 0.8 ? "#f4c7c3" : capacity >= 0.5 ? "#fde7b0" : "#d7ecd9"; }

function drawGraph(target, vis) {
  const pos = layout(vis);
  const W = 170, H = 58, GAP = 110;
  const xs = Object.values(pos).map(p => p.x), ys = Object.values(pos).map(p => p.y);
  const arcs = vis.edges.filter(e => pos[e.source] && pos[e.target] && pos[e.target].x - pos[e.source].x !== W + GAP).length;
  const top = 30 + 28 * arcs;
  const width = Math.max(...xs, 0) + W + 40, height = Math.max(...ys, 0) + H + top + 40;
  const root = svg("svg", {width, height, viewBox: `0 0 ${width} ${height}`, role: "img", id: "topology-graph"});
  const marker = svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9,
    markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse"});
  marker.append(svg("path", {d: "M0,0 L10,5 L0,10 z", fill: "#546e7a"}));
  const defs = svg("defs");
  defs.append(marker);
  root.append(defs);
  const maxRate = Math.max(1, ...vis.edges.map(e => e.rate));
  let arc = 0;
  for (const e of vis.edges) {
    const a = pos[e.source], b = pos[e.target];
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + top + H / 2, x2 = b.x, y2 = b.y + top + H / 2;
    const adjacent = x2 - x1 === GAP;
    // Streams between neighbouring columns are straight; the others arc over the nodes, one lane each.
    const lift = adjacent ? 0 : H / 2 + 28 * ++arc;
    const d = adjacent ? `M${x1},${y1} L${x2},${y2}`
      : `M${a.x + W / 2},${y1 - H / 2} C${a.x + W / 2},${y1 - lift} ${b.x + W / 2},${y2 - lift} ${b.x + W / 2},${y2 - H / 2}`;
    const edge = svg("g", {class: "edge", "data-stream": e.stream, "data-source": e.source, "data-target": e.target});
    edge.append(svg("path", {d, fill: "none", stroke: e.stream === "default" ? "#546e7a" : "#8e24aa",
      "stroke-width": 1.5 + 4 * Math.sqrt(e.rate / maxRate), "marker-end": "url(#arrow)"}));
    const lx = adjacent ? (x1 + x2) / 2 : (a.x + b.x + W) / 2, ly = adjacent ? y1 - 8 : Math.min(y1, y2) - H / 2 - lift * 0.75 - 6;
    edge.append(svg("text", {x: lx, y: ly, "text-anchor": "middle", class: "edge-label"}, `${e.stream} · ${e.rate}/s`));
    edge.append(svg("title", {}, `${e.source} → ${e.target} on "${e.stream}" (${e.grouping}): ${e.executed} executed in ${vis.windowHint}`));
    root.append(edge);
  }
  for (const [name, c] of Object.entries(vis.components)) {
    const p = pos[name], y = p.y + top;
    const node = svg("a", {href: "/component.html?topology_id=" + enc(topologyId) + "&id=" + enc(name), class: "node", "data-component": name});
    node.append(svg("rect", {x: p.x, y, width: W, height: H, rx: c[":type"] === "spout" ? 28 : 6,
      fill: c[":type"] === "spout" ? "#dbe7f5" : capacityColour(c[":capacity"]), stroke: "#37474f"}));
    node.append(svg("text", {x: p.x + W / 2, y: y + 22, "text-anchor": "middle", "font-weight": 600}, name));
    node.append(svg("text", {x: p.x + W / 2, y: y + 42, "text-anchor": "middle"}, c[":type"] === "spout"
      ? `spout · ${c[":rate"]}/s out` : `×${c[":parallelism"]} · capacity ${c[":capacity"]}`));
    node.append(svg("title", {}, `${name}: ${c[":transferred"]} transferred in ${vis.windowHint}; streams ${c[":streams"].join(", ")}`));
    root.append(node);
  }
  target.replaceChildren(root);
}

async function renderVisualize() {
  document.getElementById("topo-name").textContent = topologyId;
  document.getElementById("topology-link").href = "/topology.html?id=" + enc(topologyId);
  const vis = await renderGraph("graph", currentWindow());
  fill("edges", table([["source", "From", null, "text"], ["stream", "Stream", null, "text"], ["target", "To", null, "text"],
    ["grouping", "Grouping", null, "text"], ["executed", "Executed"], ["rate", "Tuples/s"]], vis.edges));
}

// ---- component page ----
async function renderComponent() {
  const id = params.get("id"), win = currentWindow();
  const c = await api("/api/v1/topology/" + enc(topologyId) + "/component/" + enc(id) + "?window=" + enc(win));
  document.getElementById("comp-name").textContent = `${c.id} (${c.componentType} of ${c.name}, ${c.topologyStatus})`;
  document.getElementById("topology-link").href = "/topology.html?id=" + enc(topologyId) + "&window=" + enc(win);
  document.querySelectorAll(".window-hint").forEach(n => { n.textContent = "(" + c.windowHint + ")"; });
  fill("summary", table([["id", "Id", null, "text"], ["name", "Topology", null, "text"],
    ["componentType", "Type", null, "text"], ["executors", "Executors"], ["tasks", "Tasks"]], [c]));
  const spout = c.componentType === "spout";
  document.getElementById("stats-title").textContent = spout ? "Spout stats" : "Bolt stats";
  fill("stats", spout
    ? table([["windowPretty", "Window", null, "text"], ["emitted", "Emitted"], ["transferred", "Transferred"],
        ["completeLatency", "Complete latency (ms)"], ["acked", "Acked"], ["failed", "Failed"]], c.spoutSummary)
    : table([["windowPretty", "Window", null, "text"], ["emitted", "Emitted"], ["transferred", "Transferred"],
        ["executeLatency", "Execute latency (ms)"], ["executed", "Executed"], ["processLatency", "Process latency (ms)"],
        ["acked", "Acked"], ["failed", "Failed"]], c.boltStats));
  fill("inputs", table([["component", "Component", null, "text"], ["stream", "Stream", null, "text"],
    ["executeLatency", "Execute latency (ms)"], ["executed", "Executed"], ["processLatency", "Process latency (ms)"],
    ["acked", "Acked"], ["failed", "Failed"]], c.inputStats || [], spout ? "a spout has no inputs" : "none"));
  fill("outputs", table([["stream", "Stream", null, "text"], ["emitted", "Emitted"], ["transferred", "Transferred"],
    ...(spout ? [["completeLatency", "Complete latency (ms)"], ["acked", "Acked"], ["failed", "Failed"]] : [])],
    c.outputStats));
  const execColumns = spout
    ? [["completeLatency", "Complete latency (ms)"], ["acked", "Acked"], ["failed", "Failed"]]
    : [["capacity", "Capacity"], ["executeLatency", "Execute latency (ms)"], ["executed", "Executed"],
       ["processLatency", "Process latency (ms)"], ["acked", "Acked"], ["failed", "Failed"]];
  fill("executors", table([["id", "Id", null, "text"], ["uptime", "Uptime"], ["host", "Host", null, "text"],
    ["port", "Port"], ["emitted", "Emitted"], ["transferred", "Transferred"], ...execColumns,
    ["workerLogLink", "Log", v => v ? link("worker.log", v) : ""]], c.executorStats));
  fill("errors", table([["errorTime", "Time", when, "text"], ["errorHost", "Host", null, "text"], ["errorPort", "Port"],
    ["error", "Error", (v, r) => errorCell(v, {...r, errorHost: ""}), "error"]], c.componentErrors, "no errors reported"));
}

// ---- log viewer ----
let logStart = null;
async function renderLogViewer() {
  const file = params.get("file");
  if (!file) {
    const files = await api("/api/v1/listLogs" + (params.get("topoId") ? "?topoId=" + enc(params.get("topoId")) : ""));
    fill("log-files", table([["file", "File", v => link(v, "/logviewer?file=" + enc(v)), "text"], ["size", "Bytes"]], files,
      "no logs yet"));
    return;
  }
  document.getElementById("log-view").hidden = false;
  document.getElementById("log-name").textContent = file;
  document.getElementById("log-download").href = "/api/v1/download?file=" + enc(file);
  const page = await api("/api/v1/log?file=" + enc(file) + (logStart === null ? "" : "&start=" + logStart));
  const pre = document.getElementById("log-content");
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
  pre.textContent = page.content;
  if (logStart === null && atBottom) pre.scrollTop = pre.scrollHeight;
  document.getElementById("log-range").textContent =
    `bytes ${page.start}–${page.start + page.length} of ${page.fileSize}`;
  pre.dataset.start = page.start;
}

function setupLogViewer() {
  const file = params.get("file");
  if (!file) return;
  document.getElementById("log-older").addEventListener("click", () => {
    const start = Number(document.getElementById("log-content").dataset.start || 0);
    logStart = Math.max(0, start - 65536);
    document.getElementById("autorefresh").checked = false;
    renderLogViewer();
  });
  document.getElementById("log-tail").addEventListener("click", () => {
    logStart = null; document.getElementById("autorefresh").checked = true; renderLogViewer();
  });
  document.getElementById("log-search-form").addEventListener("submit", async event => {
    event.preventDefault();
    const needle = document.getElementById("log-search").value;
    if (!needle) return;
    const found = await api("/api/v1/search?file=" + enc(file) + "&search-string=" + enc(needle) + "&num-matches=50");
    fill("log-matches", table([["lineNumber", "Line"], ["byteOffset", "Offset", v => {
        const a = link(v, "#"); a.addEventListener("click", e => { e.preventDefault();
          logStart = Math.max(0, v - 2048); document.getElementById("autorefresh").checked = false; renderLogViewer(); });
        return a; }],
      ["beforeString", "Before", null, "text"], ["matchString", "Match", null, "text"], ["afterString", "After", null, "text"]],
      found.matches, "no match"));
  });
}

const pages = {
  index: () => every(renderIndex),
  topology: () => { setupWindowSelector(renderTopology); setupActions(); every(renderTopology); },
  component: () => { setupWindowSelector(renderComponent); every(renderComponent); },
  visualize: () => { setupWindowSelector(renderVisualize); every(renderVisualize); },
  logviewer: () => { setupLogViewer(); every(renderLogViewer); },
};
pages[document.body.dataset.page]();
