// Small SVG charts: bars and lines. Each is a <figure data-chart=ID> whose <svg role="img"> has an
// aria-label, whose bars and points carry their exact numbers (data-label, data-value / data-x, data-y,
// data-series, data-index), and which holds a visually hidden table of the same numbers.

import { fmtNum, h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 520;
const HEIGHT = 236;
const MARGIN = { left: 44, right: 12, top: 12, bottom: 72 };

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function append(node, ...children) {
  for (const child of children) if (child) node.append(child);
}

function colour(index) {
  return `var(--series-${index % 6})`;
}

/** Round ``max`` up to 1, 2 or 5 × a power of ten, so the axis reads well. */
function niceMax(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= max) return step * power;
  }
  return 10 * power;
}

function frame(id, title, subtitle, label) {
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": label });
  const caption = h("figcaption", { id: `${id}-caption` }, title, subtitle ? h("span", { class: "sub" }, subtitle) : null);
  return { svg, caption };
}

function yAxis(svg, top, format) {
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  for (const share of [0, 0.5, 1]) {
    const y = MARGIN.top + plotHeight * (1 - share);
    svg.append(s("line", { class: share ? "grid-line" : "axis", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y }));
    svg.append(s("text", { x: MARGIN.left - 6, y: y + 4, "text-anchor": "end" }, format(top * share)));
  }
}

function xLabel(svg, x, text, rotate) {
  const y = HEIGHT - MARGIN.bottom + 14;
  const shown = text.length > 18 ? `${text.slice(0, 17)}…` : text;
  const attrs = rotate
    ? { x, y, "text-anchor": "end", transform: `rotate(-40 ${x} ${y})` }
    : { x, y, "text-anchor": "middle" };
  svg.append(s("text", attrs, shown));
}

function axisTitles(svg, xTitle, yTitle) {
  if (xTitle) svg.append(s("text", { x: (WIDTH + MARGIN.left) / 2, y: HEIGHT - 4, "text-anchor": "middle" }, xTitle));
  if (yTitle) {
    const y = MARGIN.top + (HEIGHT - MARGIN.top - MARGIN.bottom) / 2;
    svg.append(s("text", { x: 11, y, "text-anchor": "middle", transform: `rotate(-90 11 ${y})` }, yTitle));
  }
}

function dataTable(title, header, rows) {
  return h("table", { class: "visually-hidden", dataset: { chartTable: "" } },
    h("caption", {}, title),
    h("thead", {}, h("tr", {}, header.map((cell) => h("th", { scope: "col" }, cell)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))))));
}

function legend(series) {
  if (series.length < 2) return null;
  return h("ul", { class: "legend", "aria-hidden": "true" }, series.map((one, i) =>
    h("li", {}, h("span", { class: "swatch", style: `background:${colour(i)}` }), one.name)));
}

function summary(title, labels, series, format) {
  if (!labels.length) return `${title}: no data yet`;
  if (labels.length <= 8) {
    const parts = labels.map((label, i) => `${label} ${series.map((one) => format(one.values[i])).join(" / ")}`);
    return `${title}: ${parts.join(", ")}`;
  }
  const totals = labels.map((_, i) => series.reduce((sum, one) => sum + (one.values[i] || 0), 0));
  const top = totals.indexOf(Math.max(...totals));
  return `${title}: ${labels.length} bars, the largest ${labels[top]} (${format(totals[top])}); exact numbers in the table`;
}

/** Bars: ``labels`` along x, one bar per series for each (``series``: [{name, values}]). */
export function barChart({ id, title, subtitle, labels, series, xTitle, yTitle, format = fmtNum, integer = true }) {
  const { svg, caption } = frame(id, title, subtitle, summary(title, labels, series, format));
  const figure = h("figure", { class: "chart", dataset: { chart: id, kind: "bar" }, "aria-labelledby": caption.id }, caption, svg);
  if (!labels.length) {
    svg.append(s("text", { class: "empty", x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" }, "no data yet"));
    figure.append(dataTable(title, ["", ...series.map((one) => one.name)], []));
    return figure;
  }
  const top = niceMax(Math.max(integer ? 2 : 0, ...series.flatMap((one) => one.values)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const group = plotWidth / labels.length;
  const barWidth = Math.max(1, (group * 0.8) / series.length);
  yAxis(svg, top, format);
  const rotate = labels.length > 6 || labels.some((label) => label.length > 9);
  const every = Math.ceil(labels.length / 12);
  labels.forEach((label, i) => {
    series.forEach((one, j) => {
      const value = one.values[i] || 0;
      const height = (value / top) * plotHeight;
      const x = MARGIN.left + group * i + group * 0.1 + barWidth * j;
      const bar = s("rect", {
        class: "bar", x: x.toFixed(2), y: (MARGIN.top + plotHeight - height).toFixed(2), width: barWidth.toFixed(2),
        height: height.toFixed(2), fill: colour(j),
        "data-index": i, "data-label": label, "data-series": one.name, "data-value": value,
      }, s("title", {}, `${label}${series.length > 1 ? ` (${one.name})` : ""}: ${format(value)}`));
      svg.append(bar);
    });
    if (i % every === 0) xLabel(svg, MARGIN.left + group * (i + 0.5), label, rotate);
  });
  axisTitles(svg, xTitle, yTitle);
  const rows = labels.map((label, i) => [label, ...series.map((one) => format(one.values[i] || 0))]);
  if (labels.length && series.every((one) => one.values.every((v) => !v))) {
    svg.append(s("text", { class: "empty", x: WIDTH / 2, y: HEIGHT / 2 - 20, "text-anchor": "middle" }, "none yet"));
  }
  append(figure, legend(series), dataTable(title, [xTitle || "", ...series.map((one) => one.name)], rows));
  return figure;
}

/** A histogram of the API's shape {count, missing, mean, edges, counts} as bars labelled by bin. */
export function histogramChart({ id, title, histogram, digits = 1, xTitle, series, subtitle }) {
  const edges = histogram.edges;
  const labels = histogram.counts.map((_, i) => `${edges[i].toFixed(digits)}–${edges[i + 1].toFixed(digits)}`);
  const all = series || [{ name: "count", values: histogram.counts }];
  const caption = subtitle ?? `${histogram.count} scored, ${histogram.missing} missing, mean ${fmtNum(histogram.mean, 3)}`;
  const figure = barChart({ id, title, subtitle: caption, labels, series: all, xTitle, yTitle: "candidates", format: (v) => fmtNum(v, 0) });
  figure.dataset.count = histogram.count;
  figure.dataset.missing = histogram.missing;
  return figure;
}

/** Lines: ``series`` [{name, points: [{x, y}]}], x ascending. */
export function lineChart({ id, title, subtitle, series, xTitle, yTitle, yMax, format = fmtNum }) {
  const points = series.flatMap((one) => one.points);
  const label = points.length
    ? `${title}: ${series.map((one) => `${one.name} ${one.points.map((p) => format(p.y)).join(", ")}`).join("; ")}`
    : `${title}: no data yet`;
  const { svg, caption } = frame(id, title, subtitle, label.length > 600 ? `${label.slice(0, 580)}…; exact numbers in the table` : label);
  const figure = h("figure", { class: "chart", dataset: { chart: id, kind: "line" }, "aria-labelledby": caption.id }, caption, svg);
  if (!points.length) {
    svg.append(s("text", { class: "empty", x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" }, "no data yet"));
    figure.append(dataTable(title, [xTitle || "x", ...series.map((one) => one.name)], []));
    return figure;
  }
  const xs = points.map((p) => p.x);
  const [low, high] = [Math.min(...xs), Math.max(...xs)];
  const top = yMax ?? niceMax(Math.max(2, ...points.map((p) => p.y)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x) => MARGIN.left + (high === low ? plotWidth / 2 : ((x - low) / (high - low)) * plotWidth);
  const py = (y) => MARGIN.top + plotHeight * (1 - Math.min(y, top) / top);
  yAxis(svg, top, format);
  const ticks = [...new Set(xs)].sort((a, b) => a - b);
  const every = Math.ceil(ticks.length / 10);
  ticks.forEach((x, i) => {
    if (i % every === 0 || i === ticks.length - 1) xLabel(svg, px(x), fmtNum(x, 0), false);
  });
  series.forEach((one, j) => {
    svg.append(s("polyline", {
      fill: "none", stroke: colour(j), "stroke-width": 2,
      points: one.points.map((p) => `${px(p.x).toFixed(2)},${py(p.y).toFixed(2)}`).join(" "),
    }));
    one.points.forEach((p, i) => {
      svg.append(s("circle", {
        class: "point", cx: px(p.x).toFixed(2), cy: py(p.y).toFixed(2), r: 3, fill: colour(j),
        "data-index": i, "data-series": one.name, "data-x": p.x, "data-y": p.y,
      }, s("title", {}, `${one.name} at ${fmtNum(p.x, 0)}: ${format(p.y)}`)));
    });
  });
  axisTitles(svg, xTitle, yTitle);
  const rows = ticks.map((x) => [fmtNum(x, 0), ...series.map((one) => {
    const found = one.points.find((p) => p.x === x);
    return found ? format(found.y) : "—";
  })]);
  append(figure, legend(series), dataTable(title, [xTitle || "x", ...series.map((one) => one.name)], rows));
  return figure;
}
