// Building DOM nodes and formatting numbers; no page logic.

import { ApiError } from "./api.js";

/** h("a", {href: "#/", class: "x"}, "text", child…): an element; attributes starting with "on" are listeners,
 *  ``dataset`` is an object of data-* values; null/false children and attributes are skipped. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "class") node.className = value;
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function fmtInt(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
}

export function fmtNum(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function fmtShare(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

export function fmtTime(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString("en-GB", { hour12: false });
}

export function badge(text, kind = text) {
  return h("span", { class: `badge ${kind}` }, text);
}

export function notAvailable(what) {
  return h("p", { class: "unavailable", dataset: { unavailable: what } }, `${what}: not available on this server`);
}

/** A message box for an error; a 401 links to the key page. */
export function errorBox(error) {
  const message = error instanceof ApiError ? error.message : String(error && error.message ? error.message : error);
  const box = h("div", { class: "error", role: "alert", dataset: { errorCode: error.code || "error" } }, message);
  if (error instanceof ApiError && error.status === 401) {
    box.append(" ", h("a", { href: "#/key" }, "Enter an API key"));
  }
  return box;
}

/** A <dl> of [label, value] pairs; a value may be a node. */
export function facts(pairs, attrs = {}) {
  return h("dl", { class: "facts", ...attrs }, pairs.map(([label, value, key]) => [
    h("dt", {}, label),
    h("dd", key ? { dataset: { fact: key } } : {}, value),
  ]));
}

/** A small card list of headline figures: [label, value, key]. */
export function cards(items) {
  return h("ul", { class: "cards" }, items.map(([label, value, key]) =>
    h("li", {}, h("span", { class: "label" }, label), h("span", { class: "value", dataset: { card: key } }, value)),
  ));
}

export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

export function field(label, control, hint) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  const hintNode = hint ? h("span", { class: "note", id: `${control.id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute("aria-describedby", hintNode.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintNode);
}

export function announce(text) {
  const node = document.getElementById("announcer");
  if (node) node.textContent = text;
}

export function encode(name) {
  return encodeURIComponent(name);
}
