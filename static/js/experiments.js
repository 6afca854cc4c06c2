// Experiments in the browser. Pages for signed-out visitors come from a cache shared by
// everyone, so they cannot carry a variant: an element names its experiment and holds one
// <template data-variant="..."> per treatment; this asks the API for the visitor's variants
// (one request for the whole page, which also logs the exposures) and shows them. The
// server-rendered content is the control, so a page without JS, or with the API down, shows
// the control.
import { csrfToken } from "./api.js";

const ASSIGNMENTS_URL = "/api/v1/experiments/assignments/";
const EVENTS_URL = "/api/v1/experiments/events/";
// Conversions the client records: clicks on these elements, once per page view.
const CONVERSIONS = [["a.card-image", "photo_opened"]];

let assignments = null;

export async function loadAssignments(keys) {
  const query = keys.length ? `?keys=${encodeURIComponent(keys.join(","))}` : "";
  const response = await fetch(ASSIGNMENTS_URL + query, {
    headers: { Accept: "application/json" }, credentials: "same-origin",
  });
  if (!response.ok) throw new Error(`assignments: ${response.status}`);
  assignments = (await response.json()).assignments;
  return assignments;
}

// The variant of `key` ("control" until the API answered, or if it failed).
export function variant(key) {
  return (assignments && assignments[key] && assignments[key].variant) || "control";
}

export async function applyExperiments(root = document) {
  const elements = [...root.querySelectorAll("[data-experiment]:not([data-variant])")];
  if (!elements.length) return;
  const keys = [...new Set(elements.map((element) => element.dataset.experiment))];
  try {
    await loadAssignments(keys);
  } catch (_) {
    return; // the control stays
  }
  for (const element of elements) {
    const chosen = variant(element.dataset.experiment);
    element.dataset.variant = chosen;
    const template = element.querySelector(`template[data-variant="${CSS.escape(chosen)}"]`);
    if (template) element.replaceChildren(template.content.cloneNode(true));
  }
}

export function recordConversion(metric, value = 1) {
  // keepalive: the event survives the navigation the click starts.
  return fetch(EVENTS_URL, {
    method: "POST", keepalive: true, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ metric, value }),
  }).catch(() => {});
}

export function trackConversions(root = document) {
  const sent = new Set();
  root.addEventListener("click", (event) => {
    for (const [selector, metric] of CONVERSIONS) {
      if (!sent.has(metric) && event.target.closest && event.target.closest(selector)) {
        sent.add(metric);
        recordConversion(metric);
      }
    }
  });
}
