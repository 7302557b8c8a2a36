// The dashboard's hash router: each route is a page module whose render(main, context) draws it.

import { access, refreshAccess } from "./access.js";
import { clear, errorBox, h } from "./dom.js";
import * as browse from "./pages/browse.js";
import * as dataset from "./pages/dataset.js";
import * as datasets from "./pages/datasets.js";
import * as job from "./pages/job.js";
import * as key from "./pages/key.js";
import * as review from "./pages/review.js";

const ROUTES = [
  [/^\/$/, datasets, "datasets"],
  [/^\/datasets\/([^/]+)$/, dataset, "datasets"],
  [/^\/datasets\/([^/]+)\/instructions$/, browse, "datasets"],
  [/^\/datasets\/([^/]+)\/review$/, review, "datasets"],
  [/^\/jobs\/(\d+)$/, job, "datasets"],
  [/^\/key$/, key, "key"],
];

let current = null; // the AbortController of the page on screen

function parseHash() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(1) : "/";
  const [path, query = ""] = raw.split("?", 2);
  return { path: path || "/", query: new URLSearchParams(query) };
}

/** Go to ``hash`` (e.g. "#/jobs/3"); the hashchange listener draws it. */
export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  if (location.hash && !location.hash.startsWith("#/")) return; // an in-page anchor, not a route
  const { path, query } = parseHash();
  current?.abort();
  current = new AbortController();
  const signal = current.signal;
  const main = document.getElementById("main");
  const found = ROUTES.find(([pattern]) => pattern.test(path));
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (found && link.dataset.nav === found[2]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!found) {
    clear(main, h("h1", { tabindex: "-1" }, "Not found"), h("p", {}, "No page at ", h("code", {}, path), ". ", h("a", { href: "#/" }, "Datasets")));
    Object.assign(main.dataset, { page: "not-found", route: location.hash, ready: "true" });
    focusHeading(main);
    return;
  }
  if (access.needKey && found[1] !== key) {
    navigate(`#/key?next=${encodeURIComponent(location.hash || "#/")}`);
    return;
  }
  const params = path.match(found[0]).slice(1).map(decodeURIComponent);
  main.dataset.page = found[1].PAGE;
  main.dataset.ready = "false";
  clear(main, h("p", { class: "note" }, "Loading…"));
  try {
    await found[1].render(main, { params, query, signal, navigate });
  } catch (error) {
    if (error.name === "AbortError" || signal.aborted) return;
    clear(main, h("h1", { tabindex: "-1" }, "Something went wrong"), errorBox(error));
  }
  if (signal.aborted) return;
  main.dataset.route = location.hash || "#/";
  main.dataset.ready = "true";
  focusHeading(main);
}

function focusHeading(main) {
  const heading = main.querySelector("h1");
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: true });
  document.title = `${heading.textContent} – Self-Instruct dashboard`;
}

async function start() {
  document.querySelector("[data-skip]")?.addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  await refreshAccess();
  window.addEventListener("hashchange", route);
  await route();
}

start();
