// One stored instruction as the browse page shows it: decision, scores, neighbours and lineage; a
// neighbour or parent id opens that row (GET …/instructions/{id}) beneath it.

import { optionalApi } from "../api.js";
import { badge, clear, encode, errorBox, fmtNum, h } from "../dom.js";

const ID_KEYS = new Set(["parent_id"]);
const ID_LIST_KEYS = new Set(["example_ids"]);

export function decisionBadge(row) {
  if (row.origin === "seed") return badge("seed", "muted");
  return row.accepted ? badge("accepted") : badge(`rejected: ${row.rule || "unknown"}`, "rejected");
}

/** A button that opens instruction ``id`` of ``dataset`` into ``target`` (``full``: the whole row). */
function opener(dataset, id, label, target, full = false) {
  const button = h("button", { type: "button", class: "link", "aria-expanded": "false", dataset: { open: id } }, label);
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-expanded") === "true") {
      clear(target);
      button.setAttribute("aria-expanded", "false");
      return;
    }
    button.setAttribute("aria-expanded", "true");
    clear(target, "loading…");
    try {
      const row = await optionalApi(`/v1/datasets/${encode(dataset)}/instructions/${id}`);
      if (row === null) clear(target, h("span", { class: "unavailable" }, `#${id}: opening a row by id is not available on this server`));
      else if (full) clear(target, h("ol", { class: "rows" }, instructionRow(row)));
      else clear(target, h("span", { class: "row-id" }, `#${row.id} `), decisionBadge(row), " ", row.instruction);
    } catch (error) {
      clear(target, errorBox(error));
    }
  });
  return button;
}

function score(label, value, digits = 3, key) {
  return h("li", { dataset: key ? { score: key } : {} }, `${label} `, h("b", {}, fmtNum(value, digits)));
}

function lineageItems(dataset, lineage, target) {
  if (!lineage) return [];
  const items = [];
  for (const [key, value] of Object.entries(lineage)) {
    if (key === "strategy" || key === "parent") continue;
    if (ID_KEYS.has(key) && Number.isInteger(value)) {
      items.push(h("li", {}, `${key} `, opener(dataset, value, `#${value}`, target)));
    } else if (ID_LIST_KEYS.has(key) && Array.isArray(value)) {
      items.push(h("li", {}, `${key} `, value.map((id, i) => [i ? ", " : "", opener(dataset, id, `#${id}`, target)])));
    } else {
      items.push(h("li", {}, `${key} `, h("b", {}, typeof value === "object" ? JSON.stringify(value) : String(value))));
    }
  }
  return items;
}

/** The <li> of one InstructionPublic. */
export function instructionRow(row) {
  const opened = h("div", { class: "neighbour", "aria-live": "polite" });
  const neighbour = (label, value, id) => h("li", { dataset: { score: label } },
    `${label} `, h("b", {}, fmtNum(value, 3)), id ? [" (", opener(row.dataset, id, `#${id}`, opened), ")"] : null);
  const judge = row.judge_score === null ? null : score("judge", row.judge_score, 2, "judge");
  return h("li", { dataset: { row: row.id, accepted: String(row.accepted), rule: row.rule || "" } },
    h("div", { class: "row-head" }, h("span", { class: "row-id" }, `#${row.id}`), decisionBadge(row),
      h("span", { class: "note" }, row.origin), row.job_id ? h("a", { href: `#/jobs/${row.job_id}` }, `job ${row.job_id}`) : null),
    h("p", { class: "row-text" }, row.instruction),
    row.detail ? h("p", { class: "note" }, row.detail) : null,
    h("ul", { class: "row-meta", "aria-label": "Scores" },
      row.max_rouge_l === null && !row.rouge_neighbor_id ? null : neighbour("ROUGE-L", row.max_rouge_l, row.rouge_neighbor_id),
      row.max_cosine === null && !row.cosine_neighbor_id ? null : neighbour("cosine", row.max_cosine, row.cosine_neighbor_id),
      row.relevance === null ? null : score("relevance", row.relevance, 3, "relevance"),
      judge,
      row.judge_expected === null ? null : score("judge expected", row.judge_expected, 2, "judge-expected")),
    row.strategy || row.lineage ? h("ul", { class: "row-meta", "aria-label": "Lineage" },
      h("li", {}, "strategy ", h("b", {}, row.strategy || (row.lineage && row.lineage.strategy) || "—")),
      lineageItems(row.dataset, row.lineage, opened)) : null,
    opened);
}

/** The <li> of one /similar hit; its decision and scores are opened by id. */
export function similarRow(dataset, item) {
  const opened = h("div", { class: "neighbour", "aria-live": "polite" });
  return h("li", { dataset: { row: item.id, score: item.score } },
    h("div", { class: "row-head" }, h("span", { class: "row-id" }, `#${item.id}`), badge(item.origin, item.origin === "seed" ? "muted" : "accepted"),
      h("span", {}, "cosine ", h("b", {}, fmtNum(item.score, 3)))),
    h("p", { class: "row-text" }, item.instruction),
    h("div", { class: "row-actions" }, opener(dataset, item.id, "Decision, scores and lineage", opened, true)),
    opened);
}
