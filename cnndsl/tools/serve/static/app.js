// The playground page. Everything from the server is put in the page as text (textContent) or as
// an image (the SVG), never as HTML, so nothing in a .arch file can run here.
"use strict";

const $ = (id) => document.getElementById(id);
const source = $("source"), backdrop = $("backdrop");
let timer = null, inflight = null, svgUrl = null, last = null;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function number(n) { return Number(n).toLocaleString("en-US"); }

// Offsets in the text of 1-based (line, column) positions.
function offset(text, line, column) {
  let at = 0;
  for (let i = 1; i < line; i++) {
    const next = text.indexOf("\n", at);
    if (next < 0) return text.length;
    at = next + 1;
  }
  return Math.min(at + column - 1, text.length);
}

// The backdrop mirrors the text, with each error's range in a <mark>: the underline.
function underline(text, diagnostics) {
  const ranges = diagnostics.filter((d) => d.line && d.file === "playground.arch").map((d) => {
    const start = offset(text, d.line, d.column);
    let end = offset(text, d.end_line, d.end_column);
    if (end <= start) end = Math.min(start + 1, text.length);
    return [start, Math.max(end, start + 1)];
  }).sort((a, b) => a[0] - b[0]);
  backdrop.replaceChildren();
  let at = 0;
  for (const [start, end] of ranges) {
    if (start < at) continue;
    backdrop.append(document.createTextNode(text.slice(at, start)));
    const mark = el("mark", text.slice(start, end) || " ", "err");
    backdrop.append(mark);
    at = end;
  }
  backdrop.append(document.createTextNode(text.slice(at) + "\n"));
  backdrop.scrollTop = source.scrollTop;
  backdrop.scrollLeft = source.scrollLeft;
}

function showErrors(diagnostics) {
  const list = $("errors");
  list.replaceChildren(...diagnostics.map((d) => {
    const where = d.line ? `${d.file}:${d.line}:${d.column}: ` : "";
    const item = el("li", d.text || where + d.message);
    if (d.line && d.file === "playground.arch") {
      item.addEventListener("click", () => {
        const at = offset(source.value, d.line, d.column);
        source.focus();
        source.setSelectionRange(at, at);
      });
    }
    return item;
  }));
}

function showResult(result) {
  $("network").textContent = `network ${result.network}`;
  $("params").textContent = `${number(result.params)} params`;
  $("macs").textContent = `${number(result.macs)} MACs`;
  const outs = Object.values(result.outputs).map((s) => s.join("x")).join(", ");
  $("shapes").textContent = `${Object.values(result.inputs).map((s) => s.join("x")).join(", ")} -> ${outs}`;
  if (svgUrl) URL.revokeObjectURL(svgUrl);
  svgUrl = URL.createObjectURL(new Blob([result.svg], { type: "image/svg+xml" }));
  $("svg").src = svgUrl;
  $("download-svg").href = svgUrl;
  $("download-svg").download = `${result.network}.svg`;
  const rows = result.layers.map((layer) => {
    const row = el("tr");
    row.append(el("td", layer.label), el("td", layer.shape.join("x")), el("td", number(layer.params)),
      el("td", number(layer.macs)), el("td", layer.line ?? ""));
    return row;
  });
  if (result.more_layers) rows.push(el("tr", `... ${result.more_layers} more layers`));
  $("layers").tBodies[0].replaceChildren(...rows);
  document.body.classList.remove("stale");
  $("right").classList.remove("stale");
}

async function analyze() {
  const text = source.value;
  $("download-arch").href = "data:text/plain;charset=utf-8," + encodeURIComponent(text);
  if (inflight) inflight.abort();
  inflight = new AbortController();
  $("status").textContent = "analysing...";
  let reply;
  try {
    const response = await fetch("/api/analyze", {
      method: "POST", signal: inflight.signal, headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text, network: null, depth: $("depth").value ? Number($("depth").value) : null }),
    });
    reply = response.ok ? await response.json() : { ok: false, diagnostics: [{ message: await response.text() }] };
  } catch (error) {
    if (error.name === "AbortError") return;
    reply = { ok: false, diagnostics: [{ message: String(error) }] };
  }
  if (text !== source.value) return;
  last = reply;
  const diagnostics = reply.ok ? [] : reply.diagnostics;
  underline(text, diagnostics);
  showErrors(diagnostics);
  if (reply.ok) {
    showResult(reply);
    $("status").textContent = "ok";
  } else {
    $("right").classList.add("stale");
    $("status").textContent = `${diagnostics.length} error${diagnostics.length === 1 ? "" : "s"}`;
  }
}

function schedule() {
  underline(source.value, []);
  clearTimeout(timer);
  timer = setTimeout(analyze, 250);
}

async function loadExample(name) {
  if (!name) return;
  const response = await fetch(`/api/examples/${encodeURIComponent(name)}`);
  source.value = await response.text();
  $("download-arch").download = `${name}.arch`;
  analyze();
}

async function downloadPython() {
  $("status").textContent = "writing Python...";
  const response = await fetch("/api/python", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text: source.value, network: null, depth: null }),
  });
  const reply = await response.json();
  if (!reply.ok) { showErrors(reply.diagnostics); $("status").textContent = "no Python: errors"; return; }
  const link = el("a");
  link.href = URL.createObjectURL(new Blob([reply.python], { type: "text/x-python" }));
  link.download = `${last && last.network ? last.network : "network"}.py`;
  link.click();
  $("status").textContent = "ok";
}

async function start() {
  const names = await (await fetch("/api/examples")).json();
  for (const name of names) $("examples").append(el("option", name));
  source.addEventListener("input", schedule);
  source.addEventListener("scroll", () => { backdrop.scrollTop = source.scrollTop; backdrop.scrollLeft = source.scrollLeft; });
  $("examples").addEventListener("change", (e) => loadExample(e.target.value));
  $("depth").addEventListener("change", analyze);
  $("download-python").addEventListener("click", downloadPython);
  const first = new URLSearchParams(location.search).get("example") || "googlenet";
  $("examples").value = names.includes(first) ? first : "";
  await loadExample($("examples").value || names[0]);
}

start();
