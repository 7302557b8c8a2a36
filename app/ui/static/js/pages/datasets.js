// #/ — every dataset (counts, thresholds, strategies of its recent jobs; score and review summary on
// demand) and the recent jobs, refreshed while one is queued or running.

import { api, optionalApi, withQuery } from "../api.js";
import { badge, clear, encode, errorBox, fmtInt, fmtNum, fmtShare, fmtTime, h, section } from "../dom.js";

export const PAGE = "datasets";
const REFRESH_MS = 2000;

export function thresholds(d) {
  const parts = [`ROUGE-L ≤ ${fmtNum(d.rouge_threshold)}`, `cosine ≤ ${fmtNum(d.embedding_threshold)}`];
  parts.push(d.relevance_threshold === null ? "relevance: server default" : `relevance ≥ ${fmtNum(d.relevance_threshold)}`);
  parts.push(d.judge_threshold === null ? "judge: server default" : `judge ≥ ${fmtNum(d.judge_threshold)}`);
  return parts.join(" · ");
}

export function jobsTable(jobs, { showDataset = true } = {}) {
  if (!jobs.length) return h("p", { class: "note" }, "No jobs yet.");
  return h("table", { dataset: { table: "jobs" } },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Job"), showDataset ? h("th", { scope: "col" }, "Dataset") : null,
      h("th", { scope: "col" }, "Status"), h("th", { scope: "col", class: "num" }, "Accepted / target"),
      h("th", { scope: "col", class: "num" }, "Rejected"), h("th", { scope: "col" }, "Strategy"),
      h("th", { scope: "col" }, "Created"))),
    h("tbody", {}, jobs.map((job) => h("tr", { dataset: { job: job.id, status: job.status } },
      h("td", {}, h("a", { href: `#/jobs/${job.id}` }, `#${job.id}`)),
      showDataset ? h("td", {}, h("a", { href: `#/datasets/${encode(job.dataset)}` }, job.dataset)) : null,
      h("td", {}, badge(job.status)),
      h("td", { class: "num" }, `${fmtInt(job.accepted)} / ${fmtInt(job.target)}`),
      h("td", { class: "num" }, fmtInt(job.rejected)),
      h("td", {}, job.strategy),
      h("td", {}, fmtTime(job.created_at))))));
}

function summaryOf(stats, agreement) {
  const judge = stats.scores.instructions.judge_score;
  const relevance = stats.scores.instructions.relevance;
  const parts = [
    `judge mean ${fmtNum(judge.mean, 2)} (${fmtInt(judge.count)} scored)`,
    `relevance mean ${fmtNum(relevance.mean, 3)} (${fmtInt(relevance.count)} scored)`,
  ];
  if (agreement === null) parts.push("review agreement not available");
  else if (agreement.error) parts.push(`reviews: ${agreement.error}`);
  else parts.push(`${fmtInt(agreement.items)} reviewed and judged, agreement ${fmtShare(agreement.accuracy)}`);
  return parts.join(" · ");
}

async function loadSummary(name, target) {
  clear(target, "loading…");
  try {
    const stats = await api(`/v1/datasets/${encode(name)}/stats`);
    let agreement;
    try {
      agreement = await optionalApi(`/v1/datasets/${encode(name)}/agreement`);
    } catch (error) {
      agreement = { error: error.message };
    }
    clear(target, summaryOf(stats, agreement));
  } catch (error) {
    clear(target, errorBox(error));
  }
}

function datasetRow(d, strategies) {
  const decided = d.accepted_count + d.rejected_count;
  const summary = h("div", { class: "note", dataset: { summary: d.name } });
  const details = h("details", {}, h("summary", {}, "Scores and reviews"), summary);
  details.addEventListener("toggle", () => {
    if (details.open && !summary.childNodes.length) loadSummary(d.name, summary);
  }, { once: false });
  return h("tr", { dataset: { dataset: d.name } },
    h("th", { scope: "row" }, h("a", { href: `#/datasets/${encode(d.name)}` }, d.name),
      d.description ? h("div", { class: "note" }, d.description) : null),
    h("td", { class: "num", dataset: { count: "seed" } }, fmtInt(d.seed_count)),
    h("td", { class: "num", dataset: { count: "accepted" } }, fmtInt(d.accepted_count)),
    h("td", { class: "num", dataset: { count: "rejected" } }, fmtInt(d.rejected_count)),
    h("td", { class: "num" }, decided ? fmtShare(d.accepted_count / decided) : "—"),
    h("td", {}, thresholds(d), d.domain ? h("div", { class: "note" }, `domain: ${d.domain}`) : null),
    h("td", {}, strategies.size ? [...strategies].join(", ") : h("span", { class: "note" }, "no recent jobs")),
    h("td", {}, details));
}

export async function render(main, { signal }) {
  const [list, jobs] = await Promise.all([api("/v1/datasets", { signal }), api(withQuery("/v1/jobs", { limit: 20 }), { signal })]);
  const strategies = new Map(list.map((d) => [d.name, new Set()]));
  for (const job of jobs) strategies.get(job.dataset)?.add(job.strategy);
  const jobsNode = h("div", { dataset: { recentJobs: "" } }, jobsTable(jobs));
  clear(main,
    h("h1", {}, "Datasets"),
    section("Datasets",
      list.length ? h("table", { dataset: { table: "datasets" } },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Name"), h("th", { scope: "col", class: "num" }, "Seeds"),
          h("th", { scope: "col", class: "num" }, "Accepted"), h("th", { scope: "col", class: "num" }, "Rejected"),
          h("th", { scope: "col", class: "num" }, "Yield"), h("th", { scope: "col" }, "Thresholds"),
          h("th", { scope: "col" }, "Strategies (recent jobs)"), h("th", { scope: "col" }, "Summary"))),
        h("tbody", {}, list.map((d) => datasetRow(d, strategies.get(d.name))))) : h("p", {}, "No datasets yet.")),
    section("Recent jobs", jobsNode));
  const live = (rows) => rows.some((job) => job.status === "queued" || job.status === "running");
  let latest = jobs;
  const timer = setInterval(async () => {
    if (!live(latest) || document.hidden) return;
    try {
      latest = await api(withQuery("/v1/jobs", { limit: 20 }), { signal });
      clear(jobsNode, jobsTable(latest));
    } catch {
      // the next tick tries again; the table keeps the last answer
    }
  }, REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer));
}
