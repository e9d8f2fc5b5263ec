/* kg explorer: search, expand neighbourhoods, run library queries. Data is shown as text only
   (textContent only, no HTML parsing of values). The API token, when the server needs one, comes from the URL
   fragment (#token=...) and stays in this tab's sessionStorage. */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const COLOURS = { User: "#2f6fde", Product: "#e07b24", Brand: "#8e44ad", Category: "#27ae60",
                    Aspect: "#c0392b", Review: "#7f8c8d", Segment: "#16a085", IngestRun: "#95a5a6" };
  let TOKEN = sessionStorage.getItem("kg-token") || "";
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (fragment.get("token")) {
    TOKEN = fragment.get("token");
    sessionStorage.setItem("kg-token", TOKEN);
    history.replaceState(null, "", location.pathname + location.search);
  }

  const state = { queries: [], lastResult: null, busy: 0 };

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  function busy(delta) {
    state.busy += delta;
    document.body.dataset.busy = String(state.busy);
  }

  async function api(path, options) {
    const opts = Object.assign({}, options || {});
    opts.headers = Object.assign({}, opts.headers || {});
    if (TOKEN) opts.headers["Authorization"] = "Bearer " + TOKEN;
    busy(1);
    try {
      const response = await fetch(path, opts);
      if (!response.ok) {
        let message = response.status + " " + response.statusText;
        try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
        throw new Error(message);
      }
      return response;
    } finally {
      busy(-1);
    }
  }

  // -- graph -------------------------------------------------------------------------------------
  const style = [
    { selector: "node", style: { "label": "data(name)", "font-size": 10, "text-valign": "bottom",
      "text-margin-y": 3, "width": 22, "height": 22, "background-color": "#888", "color": "#1d2430",
      "text-wrap": "ellipsis", "text-max-width": 120 } },
    { selector: "edge", style: { "width": 1.2, "line-color": "#aab2c0", "target-arrow-color": "#aab2c0",
      "target-arrow-shape": "triangle", "curve-style": "bezier", "label": "data(type)", "font-size": 7,
      "color": "#6b7384", "text-rotation": "autorotate" } },
    { selector: "node:selected", style: { "border-width": 3, "border-color": "#1d2430" } },
    { selector: "node.center", style: { "width": 32, "height": 32 } },
  ];
  Object.keys(COLOURS).forEach((label) => style.push(
    { selector: 'node[label = "' + label + '"]', style: { "background-color": COLOURS[label] } }));

  const cy = cytoscape({ container: $("cy"), style: style, wheelSensitivity: 0.3, minZoom: 0.1, maxZoom: 4 });

  function addGraph(graph, centerId) {
    const added = [];
    (graph.nodes || []).forEach((n) => {
      if (cy.getElementById(n.id).empty()) {
        added.push({ group: "nodes", data: { id: n.id, label: n.label, key: n.key, name: String(n.name), props: n.props || {} } });
      }
    });
    cy.add(added);
    const edges = [];
    (graph.edges || []).forEach((e) => {
      if (cy.getElementById(e.id).empty() && !cy.getElementById(e.source).empty() && !cy.getElementById(e.target).empty()) {
        edges.push({ group: "edges", data: { id: e.id, source: e.source, target: e.target, type: e.type, props: e.props || {} } });
      }
    });
    cy.add(edges);
    if (centerId) cy.getElementById(centerId).addClass("center");
    cy.layout({ name: "cose", animate: false, randomize: false, nodeDimensionsIncludeLabels: true, padding: 30 }).run();
    return added.length;
  }

  function clearGraph() { cy.elements().remove(); }

  async function expand(id) {
    setStatus("expanding " + id + " ...");
    const response = await api("/api/neighbourhood?node=" + encodeURIComponent(id) + "&limit=25");
    const graph = await response.json();
    const added = addGraph(graph, graph.center);
    const cut = Object.keys(graph.truncated || {}).map((k) => k + " " + graph.truncated[k]).join(", ");
    setStatus(id + ": " + added + " new nodes" + (cut ? " (showing 25 of: " + cut + ")" : ""));
    showGraphTab();
  }

  function showDetails(title, label, props) {
    const box = $("details");
    box.replaceChildren();
    const heading = document.createElement("h3");
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = label;
    heading.append(tag, document.createTextNode(title));
    const list = document.createElement("dl");
    Object.keys(props || {}).sort().forEach((key) => {
      const dt = document.createElement("dt");
      dt.textContent = key;
      const dd = document.createElement("dd");
      const value = props[key];
      dd.textContent = (value !== null && typeof value === "object") ? JSON.stringify(value) : String(value);
      list.append(dt, dd);
    });
    box.append(heading, list);
  }

  cy.on("tap", "node", (event) => {
    const data = event.target.data();
    showDetails(data.name, data.label, Object.assign({ key: data.key }, data.props));
    expand(data.id).catch((e) => setStatus(e.message, true));
  });
  cy.on("tap", "edge", (event) => {
    const data = event.target.data();
    showDetails(data.source + " → " + data.target, data.type, data.props);
  });

  // -- search ------------------------------------------------------------------------------------
  async function search(event) {
    if (event) event.preventDefault();
    const q = $("q").value.trim();
    if (!q) return;
    const label = $("label").value;
    setStatus("searching ...");
    const response = await api("/api/search?q=" + encodeURIComponent(q) + (label ? "&label=" + encodeURIComponent(label) : ""));
    const nodes = (await response.json()).nodes || [];
    const list = $("results");
    list.replaceChildren();
    nodes.forEach((n) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.node = n.id;
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = n.label;
      button.append(tag, document.createTextNode(String(n.name) + (String(n.name) === String(n.key) ? "" : " (" + n.key + ")")));
      button.title = n.id;
      button.addEventListener("click", () => {
        clearGraph();
        showDetails(String(n.name), n.label, Object.assign({ key: n.key }, n.props));
        expand(n.id).catch((e) => setStatus(e.message, true));
      });
      item.append(button);
      list.append(item);
    });
    setStatus(nodes.length ? nodes.length + " found" : "nothing found for " + q);
  }

  // -- query library -----------------------------------------------------------------------------
  function renderParams() {
    const form = $("params");
    form.replaceChildren();
    const query = state.queries.find((q) => q.name === $("query").value);
    $("query-desc").textContent = query ? query.description : "";
    if (!query) return;
    query.params.forEach((p) => {
      const label = document.createElement("label");
      label.textContent = p.name + " (" + p.type + (p.required ? "" : ", optional") + ")";
      const input = document.createElement("input");
      input.name = p.name;
      input.dataset.param = p.name;
      const example = p.example === null || p.example === undefined ? "" : (typeof p.example === "object" ? JSON.stringify(p.example) : String(p.example));
      input.placeholder = example;
      if (p.description) input.title = p.description;
      if (p.default !== null && p.default !== undefined) input.placeholder = "default " + String(p.default);
      label.append(input);
      form.append(label);
      if (p.raw_user_id) {
        const alt = document.createElement("label");
        alt.textContent = "or pseudonym (as the graph stores it)";
        const altInput = document.createElement("input");
        altInput.name = "pseudonym";
        altInput.dataset.param = "pseudonym";
        altInput.placeholder = "32 hex digits";
        alt.append(altInput);
        form.append(alt);
      }
    });
  }

  async function loadQueries() {
    const response = await api("/api/queries");
    state.queries = (await response.json()).queries || [];
    const select = $("query");
    select.replaceChildren();
    state.queries.forEach((q) => {
      const option = document.createElement("option");
      option.value = q.name;
      option.textContent = q.name;
      select.append(option);
    });
    renderParams();
  }

  function paramValues() {
    const values = {};
    $("params").querySelectorAll("input").forEach((input) => { if (input.value.trim()) values[input.name] = input.value.trim(); });
    return values;
  }

  function renderTable(result) {
    const head = $("table").tHead;
    const body = $("table").tBodies[0];
    head.replaceChildren();
    body.replaceChildren();
    const row = document.createElement("tr");
    result.columns.forEach((c) => { const th = document.createElement("th"); th.textContent = c; row.append(th); });
    head.append(row);
    result.rows.forEach((r) => {
      const tr = document.createElement("tr");
      result.columns.forEach((c) => {
        const td = document.createElement("td");
        const v = r[c];
        td.textContent = v === null || v === undefined ? "" : (typeof v === "object" ? JSON.stringify(v) : String(v));
        tr.append(td);
      });
      body.append(tr);
    });
  }

  async function runQuery() {
    const name = $("query").value;
    if (!name) return;
    setStatus("running " + name + " ...");
    const response = await api("/api/queries/" + encodeURIComponent(name), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ params: paramValues() }) });
    const result = await response.json();
    state.lastResult = result;
    renderTable(result);
    const seconds = typeof result.seconds === "number" ? " in " + result.seconds.toFixed(3) + " s" : "";
    setStatus(name + ": " + result.row_count + " rows" + seconds + (result.truncated ? " (table shows the first " + result.rows.length + ")" : ""));
    if (result.graph && result.graph.nodes.length) {
      clearGraph();
      addGraph(result.graph, null);
      showGraphTab();
    } else {
      showTableTab();
    }
  }

  async function downloadCsv() {
    const name = $("query").value;
    if (!name) return;
    const response = await api("/api/queries/" + encodeURIComponent(name) + "/csv", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ params: paramValues() }) });
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name + ".csv";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // -- tabs --------------------------------------------------------------------------------------
  function showGraphTab() {
    $("cy").hidden = false;
    $("table-wrap").hidden = true;
    $("show-graph").classList.add("active");
    $("show-table").classList.remove("active");
    cy.resize();
    fitView();
  }

  function fitView() {
    cy.fit(undefined, 30);
    if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(); }
  }

  function showTableTab() {
    $("cy").hidden = true;
    $("table-wrap").hidden = false;
    $("show-table").classList.add("active");
    $("show-graph").classList.remove("active");
  }

  const report = (promise) => promise.catch((e) => setStatus(e.message, true));
  $("search-form").addEventListener("submit", (e) => report(search(e)));
  $("query").addEventListener("change", renderParams);
  $("run").addEventListener("click", () => report(runQuery()));
  $("csv").addEventListener("click", () => report(downloadCsv()));
  $("show-graph").addEventListener("click", showGraphTab);
  $("show-table").addEventListener("click", showTableTab);
  $("fit").addEventListener("click", fitView);
  $("clear").addEventListener("click", clearGraph);

  window.kgExplorer = { cy: cy, state: state, expand: expand };
  report(loadQueries());
})();
