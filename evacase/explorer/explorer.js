// The API explorer: reads /openapi.json, lists the services, fills a body from the schema, sends it.
// Everything is shown with textContent: nothing an answer holds is ever parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { doc: null, services: [], current: null };
const TOKEN_KEY = "evacase.explorer.token";

function resolve(schema) {
  let s = schema || {};
  for (let i = 0; s.$ref && i < 20; i++) {
    s = state.doc.components.schemas[s.$ref.split("/").pop()] || {};
  }
  return s;
}

// A value of the schema's shape: null where null is allowed (optional fields stay unset), else the first enum
// value, the minimum, an empty string, ...; objects carry their required properties (all of them at the top).
function example(schema, depth, top) {
  const s = resolve(schema);
  if (depth > 6) return null;
  const choices = s.anyOf || s.oneOf;
  if (choices) {
    if (choices.some((c) => resolve(c).type === "null")) return null;
    return example(choices[0], depth + 1, false);
  }
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case "object": {
      const out = {};
      const required = new Set(s.required || []);
      for (const [key, value] of Object.entries(s.properties || {})) {
        if (top || required.has(key)) out[key] = example(value, depth + 1, false);
      }
      return out;
    }
    case "array": return [];
    case "integer": case "number": return Math.max(0, s.minimum || 0);
    case "boolean": return false;
    case "string": return "";
    case "null": return null;
    default: return null;
  }
}

function showService(name) {
  const entry = state.services.find((s) => s.name === name);
  if (!entry) return;
  state.current = entry;
  const op = entry.op;
  $("name").textContent = name;
  $("summary").textContent = op.summary || "";
  $("access").textContent = op.description || "";
  const schemaRef = op.requestBody.content["application/json"].schema;
  const schema = resolve(schemaRef);
  $("schema").textContent = JSON.stringify(schema, null, 2);
  $("errors").textContent = Object.entries(op.responses)
    .filter(([status]) => status !== "200")
    .map(([status, r]) => status + ": " + r.description)
    .join("\n");
  $("body").value = JSON.stringify(example(schemaRef, 0, true), null, 2);
  $("status").textContent = "";
  $("status").className = "";
  $("elapsed").textContent = "";
  $("headers").textContent = "";
  $("response").textContent = "";
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
}

function listServices() {
  const filter = $("filter").value.trim().toLowerCase();
  const select = $("service");
  const keep = state.current ? state.current.name : null;
  select.textContent = "";
  const shown = state.services.filter((s) => !filter || s.name.toLowerCase().includes(filter));
  for (const s of shown) {
    const option = document.createElement("option");
    option.value = s.name;
    option.textContent = s.name;
    option.title = s.op.summary || "";
    if (s.name === keep) option.selected = true;
    select.appendChild(option);
  }
  $("count").textContent = shown.length + " of " + state.services.length + " services";
}

async function send() {
  if (!state.current) return;
  let body;
  try {
    body = JSON.stringify(JSON.parse($("body").value || "{}"));
  } catch (e) {
    $("status").textContent = "The body is not valid JSON: " + e.message;
    $("status").className = "error";
    return;
  }
  const headers = { "Content-Type": "application/json", "EVA-User-Agent": "evacase-explorer" };
  const token = $("token").value.trim();
  if (token) headers.Authorization = /^(bearer|eva)\s/i.test(token) ? token : "Bearer " + token;
  if ($("string-ids").checked) headers["EVA-IDs-Mode"] = "StringIDs";
  $("status").textContent = "sending…";
  $("status").className = "";
  const started = performance.now();
  let response;
  try {
    response = await fetch("/message/" + encodeURIComponent(state.current.name), { method: "POST", headers, body });
  } catch (e) {
    $("status").textContent = "No answer: " + e.message;
    $("status").className = "error";
    return;
  }
  const text = await response.text();
  $("elapsed").textContent = Math.round(performance.now() - started) + " ms";
  $("status").textContent = response.status + " " + (response.statusText || "");
  $("status").className = response.ok ? "ok" : "error";
  const lines = [];
  response.headers.forEach((value, key) => lines.push(key + ": " + value));
  $("headers").textContent = lines.sort().join("\n");
  try {
    $("response").textContent = JSON.stringify(JSON.parse(text), null, 2);
  } catch (e) {
    $("response").textContent = text;
  }
}

async function mint() {
  $("mint-result").textContent = "…";
  try {
    const response = await fetch("/docs/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ UserType: $("mint-type").value }),
    });
    const answer = await response.json();
    if (!response.ok) {
      $("mint-result").textContent = answer.Error ? answer.Error.Message : response.status;
      return;
    }
    $("token").value = answer.Token;
    sessionStorage.setItem(TOKEN_KEY, answer.Token);
    $("mint-result").textContent = "A token for " + answer.UserType + " " + answer.UserID + ", valid one day.";
  } catch (e) {
    $("mint-result").textContent = "No answer: " + e.message;
  }
}

async function load() {
  $("token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  const response = await fetch("/openapi.json");
  state.doc = await response.json();
  $("version").textContent = "v" + state.doc.info.version;
  state.services = Object.entries(state.doc.paths)
    .filter(([path]) => path.startsWith("/message/"))
    .map(([path, item]) => ({ name: path.slice("/message/".length), op: item.post }));
  listServices();
  const wanted = decodeURIComponent(location.hash.slice(1));
  showService(state.services.some((s) => s.name === wanted) ? wanted : "Ping");
  listServices();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  $("filter").addEventListener("input", listServices);
  $("service").addEventListener("change", (e) => showService(e.target.value));
  $("send").addEventListener("click", send);
  $("mint").addEventListener("click", mint);
  $("reset").addEventListener("click", () => state.current && showService(state.current.name));
  $("token").addEventListener("change", () => sessionStorage.setItem(TOKEN_KEY, $("token").value.trim()));
  $("body").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(); });
  load().catch((e) => { $("summary").textContent = "Could not read /openapi.json: " + e.message; });
});
