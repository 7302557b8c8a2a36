// #/datasets/{name} — counts and settings, rejection reasons, score distributions, nearest-neighbour
// similarity, the novelty curve, strategies and lineage, judge–reviewer agreement, its jobs, a job form.

import { api, optionalApi, withQuery } from "../api.js";
import { barChart, histogramChart, lineChart } from "../charts.js";
import { cards, clear, encode, errorBox, facts, field, fmtInt, fmtNum, fmtShare, h, notAvailable, section } from "../dom.js";
import { jobsTable, thresholds } from "./datasets.js";
import { jobForm } from "./job_form.js";

export const PAGE = "dataset";

const SCORE_TITLES = {
  relevance: "Relevance to the domain (cosine)",
  judge_score: "Judge score (1–5)",
  judge_expected: "Judge expected score (1–5)",
};
const NEIGHBOUR_TITLES = { max_cosine: "Nearest neighbour: cosine", max_rouge_l: "Nearest neighbour: ROUGE-L F" };

function rejectionsChart(rejections) {
  const entries = Object.entries(rejections);
  return barChart({
    id: "rejections", title: "Rejection reasons", subtitle: `${fmtInt(entries.reduce((s, [, n]) => s + n, 0))} rejected`,
    labels: entries.map(([rule]) => rule), series: [{ name: "rejected", values: entries.map(([, n]) => n) }],
    xTitle: "rule", yTitle: "candidates", format: (v) => fmtNum(v, 0),
  });
}

function scoreCharts(scores) {
  const charts = Object.entries(SCORE_TITLES).map(([key, title]) =>
    histogramChart({ id: `score-${key}`, title, histogram: scores.instructions[key], digits: key === "relevance" ? 1 : 1 }));
  const instances = scores.instances || {};
  for (const [key, histogram] of Object.entries(instances)) {
    if (histogram.count) charts.push(histogramChart({ id: `instance-score-${key}`, title: `Instances: ${SCORE_TITLES[key]}`, histogram }));
  }
  return h("div", { class: "grid" }, charts.map((chart) => h("div", { class: "panel" }, chart)));
}

function neighbourCharts(scores) {
  const instructions = scores.instructions;
  if (!instructions.max_cosine && !instructions.max_rouge_l) return notAvailable("Nearest-neighbour similarity");
  const split = scores.neighbours || instructions.neighbours || null;
  const charts = [];
  for (const [key, title] of Object.entries(NEIGHBOUR_TITLES)) {
    const histogram = instructions[key];
    if (!histogram) continue;
    charts.push(histogramChart({ id: `nn-${key}`, title, histogram, digits: 2, xTitle: "similarity at decision time" }));
    if (split?.accepted?.[key] && split?.rejected?.[key]) {
      charts.push(histogramChart({
        id: `nn-${key}-split`, title: `${title}, by decision`, histogram: split.accepted[key], digits: 2,
        subtitle: `${fmtInt(split.accepted[key].count)} accepted (mean ${fmtNum(split.accepted[key].mean, 3)}), ${fmtInt(split.rejected[key].count)} rejected (mean ${fmtNum(split.rejected[key].mean, 3)})`,
        series: [
          { name: "accepted", values: split.accepted[key].counts },
          { name: "rejected", values: split.rejected[key].counts },
        ],
      }));
    }
  }
  return h("div", { class: "grid" }, charts.map((chart) => h("div", { class: "panel" }, chart)));
}

function noveltyChart(curve, window) {
  return lineChart({
    id: "novelty", title: "Novelty curve", subtitle: `share accepted per ${window} candidates`,
    series: [{ name: "share accepted", points: curve.map((y, i) => ({ x: (i + 1) * window, y })) }],
    xTitle: "candidates decided", yTitle: "share", yMax: 1, format: (v) => fmtNum(v, 3),
  });
}

function strategiesSection(strategies) {
  if (!strategies) return notAvailable("Strategy and lineage breakdown");
  const names = Object.keys(strategies);
  const chart = barChart({
    id: "strategies", title: "Candidates by strategy", labels: names,
    series: ["accepted", "rejected"].map((name) => ({ name, values: names.map((s) => strategies[s][name] || 0) })),
    xTitle: "strategy", yTitle: "candidates", format: (v) => fmtNum(v, 0),
  });
  const rows = [];
  for (const [strategy, entry] of Object.entries(strategies)) {
    for (const [key, values] of Object.entries(entry.by || {})) {
      for (const [value, counts] of Object.entries(values)) {
        rows.push(h("tr", { dataset: { strategy, key, value } },
          h("td", {}, strategy), h("td", {}, key), h("td", {}, value),
          h("td", { class: "num" }, fmtInt(counts.accepted || 0)), h("td", { class: "num" }, fmtInt(counts.rejected || 0))));
      }
    }
  }
  const table = rows.length ? h("table", { dataset: { table: "lineage" } },
    h("caption", { class: "note" }, "How prompts were built (lineage keys)"),
    h("thead", {}, h("tr", {}, ["Strategy", "Lineage key", "Value", "Accepted", "Rejected"].map((t, i) =>
      h("th", { scope: "col", class: i > 2 ? "num" : null }, t)))),
    h("tbody", {}, rows)) : h("p", { class: "note" }, "No lineage keys recorded.");
  return h("div", { class: "grid" }, h("div", {}, chart), h("div", {}, table));
}

function agreementView(name, agreement, error, reload) {
  const threshold = h("input", { id: "agreement-threshold", type: "number", min: 1, max: 5, step: 0.5, value: agreement?.threshold ?? 3 });
  const form = h("form", { class: "inline", dataset: { form: "agreement" } },
    field("Compare at judge threshold", threshold), h("button", { type: "submit", class: "secondary" }, "Compare"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    reload(Number(threshold.value));
  });
  if (error) return [errorBox(error), form];
  const c = agreement.confusion || {};
  const cell = (judge, reviewer) => h("td", { class: "num", dataset: { judge, reviewer } }, fmtInt(c[judge]?.[reviewer] ?? 0));
  return [
    cards([
      ["Reviewed and judged", fmtInt(agreement.items), "agreement-items"],
      ["Agreement", fmtShare(agreement.accuracy), "agreement-accuracy"],
      ["Cohen's κ", fmtNum(agreement.cohen_kappa, 3), "agreement-kappa"],
      ["Judge threshold", fmtNum(agreement.threshold), "agreement-threshold"],
    ]),
    h("table", { dataset: { table: "confusion" } },
      h("caption", { class: "note" }, "Rows: the judge; columns: the reviewers"),
      h("thead", {}, h("tr", {}, h("td", {}), h("th", { scope: "col", class: "num" }, "reviewer accepts"), h("th", { scope: "col", class: "num" }, "reviewer rejects"))),
      h("tbody", {},
        h("tr", {}, h("th", { scope: "row" }, "judge accepts"), cell("accept", "accept"), cell("accept", "reject")),
        h("tr", {}, h("th", { scope: "row" }, "judge rejects"), cell("reject", "accept"), cell("reject", "reject")))),
    form,
  ];
}

async function settled(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    if (error.name === "AbortError") throw error;
    return { error };
  }
}

export async function render(main, { params, signal, navigate }) {
  const [name] = params;
  const base = `/v1/datasets/${encode(name)}`;
  const dataset = await api(base, { signal });
  const [stats, agreement, jobs] = await Promise.all([
    settled(api(`${base}/stats`, { signal })),
    settled(optionalApi(`${base}/agreement`, { signal })),
    settled(api(withQuery("/v1/jobs", { dataset: name, limit: 20 }), { signal })),
  ]);
  const decided = dataset.accepted_count + dataset.rejected_count;
  const agreementNode = h("div", { dataset: { agreement: "" } });
  const showAgreement = (result) => {
    if (result.value === null) clear(agreementNode, notAvailable("Judge–reviewer agreement"));
    else clear(agreementNode, ...agreementView(name, result.value, result.error, reload));
  };
  async function reload(threshold) {
    showAgreement(await settled(api(withQuery(`${base}/agreement`, { threshold }), { signal })));
  }
  showAgreement(agreement);
  const s = stats.value;
  clear(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Datasets"), " / ", name),
    h("h1", {}, `Dataset ${name}`),
    h("p", { class: "lede" }, dataset.description || ""),
    h("nav", { "aria-label": "Dataset", class: "row-actions" },
      h("a", { href: `#/datasets/${encode(name)}/instructions` }, "Browse and search instructions"),
      h("a", { href: `#/datasets/${encode(name)}/review` }, "Review queue")),
    section("Summary",
      cards([
        ["Seeds", fmtInt(dataset.seed_count), "seed"], ["Accepted", fmtInt(dataset.accepted_count), "accepted"],
        ["Rejected", fmtInt(dataset.rejected_count), "rejected"], ["Yield", decided ? fmtShare(dataset.accepted_count / decided) : "—", "yield"],
      ]),
      h("br"),
      facts([
        ["Thresholds", thresholds(dataset)],
        ["Heuristics", `${dataset.heuristics_preset}${dataset.disabled_rules.length ? `, off: ${dataset.disabled_rules.join(", ")}` : ""}`],
        ["Examples per prompt", `${dataset.num_human_examples} human + ${dataset.num_machine_examples} machine`],
        ["Domain", dataset.domain || "none (no relevance stage)"],
        ...(s ? [
          ["Diversity", `distinct-1 ${fmtNum(s.diversity.distinct_1, 3)}, distinct-2 ${fmtNum(s.diversity.distinct_2, 3)}, mean nearest-neighbour cosine ${fmtNum(s.diversity.mean_nn_similarity, 3)} (${fmtInt(s.diversity.accepted)} accepted)`],
        ] : []),
      ])),
    section("Start a job", jobForm(name, navigate)),
    ...(s ? [
      h("div", { class: "grid" },
        section("Why candidates were rejected", rejectionsChart(s.rejections)),
        section("Saturation", noveltyChart(s.novelty_curve, s.novelty_window))),
      section("Score distributions", scoreCharts(s.scores)),
      section("Nearest-neighbour similarity", neighbourCharts(s.scores)),
      section("Strategies and lineage", strategiesSection(s.strategies)),
    ] : [section("Statistics", errorBox(stats.error))]),
    section("Judge–reviewer agreement", agreementNode),
    section("Jobs", jobs.value ? jobsTable(jobs.value, { showDataset: false }) : errorBox(jobs.error)));
}
