// #/datasets/{name}/review — the review queue (lowest judge confidence first) with the judge's score
// beside each row. Keys: j / ↓ next, k / ↑ previous, a approve, r reject, e edit (Enter saves, Esc cancels).

import { canWrite, readOnlyNote } from "../access.js";
import { api, withQuery } from "../api.js";
import { announce, badge, clear, encode, errorBox, field, fmtNum, h } from "../dom.js";

export const PAGE = "review";
const QUEUE_SIZE = 20;
const REVIEWER_STORAGE = "si.reviewer";
const LABELS = { approved: "Approved", rejected: "Rejected", edited: "Edited" };

function shortcuts() {
  const key = (k) => h("kbd", {}, k);
  return h("p", { class: "note", id: "review-keys" },
    "Keyboard: ", key("j"), "/", key("↓"), " next, ", key("k"), "/", key("↑"), " previous, ",
    key("a"), " approve, ", key("r"), " reject, ", key("e"), " edit (", key("Enter"), " saves, ", key("Esc"), " cancels).");
}

export async function render(main, { params, query, signal, navigate }) {
  const [name] = params;
  const base = `/v1/datasets/${encode(name)}`;
  const state = query.get("state") === "any" ? "any" : "unreviewed";
  const queue = await api(withQuery(`${base}/review-queue`, { limit: QUEUE_SIZE, state }), { signal });
  const items = queue.items;
  let index = 0;
  let editing = null; // {item, textarea} while a row is being edited

  const reviewer = h("input", { id: "reviewer", name: "reviewer", value: sessionStorage.getItem(REVIEWER_STORAGE) || "reviewer", maxlength: 64, required: true, autocomplete: "username" });
  reviewer.addEventListener("change", () => sessionStorage.setItem(REVIEWER_STORAGE, reviewer.value.trim()));
  const stateSelect = h("select", { id: "review-state" },
    h("option", { value: "unreviewed", selected: state === "unreviewed" }, "unreviewed"),
    h("option", { value: "any", selected: state === "any" }, "any state"));
  stateSelect.addEventListener("change", () => navigate(withQuery(`#/datasets/${encode(name)}/review`, { state: stateSelect.value === "any" ? "any" : "" })));
  const messages = h("div", { dataset: { reviewMessages: "" } });
  const list = h("ol", { class: "rows", "aria-label": "Review queue", "aria-describedby": "review-keys", dataset: { queue: "" } });

  function actionButton(label, shortcut, onClick, kind = "secondary") {
    return h("button", { type: "button", class: kind, disabled: !canWrite(), "aria-keyshortcuts": shortcut, dataset: { action: label.toLowerCase(), write: "" }, onclick: onClick }, label);
  }

  function rowOf(item, i) {
    const text = h("p", { class: "row-text", dataset: { text: "" } }, item.instruction);
    const li = h("li", {
      tabindex: i === index ? "0" : "-1", "aria-current": i === index ? "true" : "false",
      "aria-label": `#${item.id}, judge ${item.judge_score === null ? "not judged" : fmtNum(item.judge_score, 2)}, ${item.review_state}`,
      dataset: { item: item.id, state: item.review_state },
    },
      h("div", { class: "row-head" },
        h("span", { class: "judge-score", title: "the judge's overall score (1–5)", dataset: { judgeScore: item.judge_score ?? "" } },
          h("small", {}, "judge"), item.judge_score === null ? "—" : fmtNum(item.judge_score, 1)),
        h("span", { class: "row-id" }, `#${item.id}`),
        item.judge_expected === null ? null : h("span", { class: "note" }, `expected ${fmtNum(item.judge_expected, 2)}`),
        item.accepted ? badge("accepted by the filters", "accepted") : badge(`rejected: ${item.rule}`, "rejected"),
        badge(item.review_state)),
      text,
      item.output ? h("p", { class: "note" }, `output: ${item.output}`) : null,
      h("div", { class: "row-actions" },
        actionButton("Approve", "a", () => verdict(i, "approved")),
        actionButton("Reject", "r", () => verdict(i, "rejected"), "danger"),
        actionButton("Edit", "e", () => startEdit(i))));
    li.addEventListener("focus", () => select(i, false));
    return li;
  }

  function draw(focus = true) {
    clear(list, items.length ? items.map(rowOf) : h("li", {}, "Nothing waits for review."));
    if (focus && items.length) list.children[index].focus();
  }

  function select(i, focus = true) {
    if (!items.length) return;
    index = Math.max(0, Math.min(items.length - 1, i));
    [...list.children].forEach((li, j) => {
      li.setAttribute("tabindex", j === index ? "0" : "-1");
      li.setAttribute("aria-current", j === index ? "true" : "false");
    });
    if (focus) list.children[index].focus();
  }

  async function verdict(i, verdictState, editedText) {
    const item = items[i];
    const button = list.children[i].querySelector(`[data-action="${verdictState === "edited" ? "edit" : verdictState === "approved" ? "approve" : "reject"}"]`);
    if (button?.disabled) {
      clear(messages, h("p", { class: "note readonly" }, "This key is read-only: reviews need the write scope."));
      return false;
    }
    clear(messages);
    const body = { [item.kind === "instance" ? "instance_id" : "instruction_id"]: item.id, state: verdictState, reviewer: reviewer.value.trim() || "reviewer" };
    if (verdictState === "edited") body.edited_text = editedText;
    try {
      await api(`${base}/reviews`, { method: "POST", body });
    } catch (error) {
      clear(messages, errorBox(error));
      announce(error.message);
      return false;
    }
    item.review_state = verdictState;
    if (editedText !== undefined) item.instruction = editedText;
    announce(`${LABELS[verdictState]} #${item.id}`);
    index = Math.min(items.length - 1, i + 1);
    draw();
    return true;
  }

  function startEdit(i) {
    if (list.children[i].querySelector('[data-action="edit"]').disabled) {
      clear(messages, h("p", { class: "note readonly" }, "This key is read-only: reviews need the write scope."));
      return;
    }
    select(i, false);
    const item = items[i];
    const textarea = h("textarea", { id: `edit-${item.id}`, rows: 3, dataset: { edit: item.id } }, item.instruction);
    const holder = list.children[i].querySelector("[data-text]");
    clear(holder, h("label", { for: textarea.id }, `Edited instruction #${item.id} (Enter saves, Esc cancels)`), textarea);
    editing = { i, textarea };
    textarea.focus();
    textarea.select();
  }

  function cancelEdit() {
    const { i } = editing;
    editing = null;
    draw(false);
    select(i);
  }

  list.addEventListener("keydown", async (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (editing && event.target === editing.textarea) {
      if (event.key === "Escape") {
        event.preventDefault();
        cancelEdit();
      } else if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        const text = editing.textarea.value.trim();
        if (!text) return;
        const { i } = editing;
        const saved = await verdict(i, "edited", text);
        if (saved) editing = null;
      }
      return;
    }
    const actions = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 };
    if (event.key in actions) {
      event.preventDefault();
      select(index + actions[event.key]);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      select(event.key === "Home" ? 0 : items.length - 1);
    } else if (event.key === "a" || event.key === "r") {
      event.preventDefault();
      await verdict(index, event.key === "a" ? "approved" : "rejected");
    } else if (event.key === "e") {
      event.preventDefault();
      startEdit(index);
    }
  });

  clear(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Datasets"), " / ", h("a", { href: `#/datasets/${encode(name)}` }, name), " / review"),
    h("h1", {}, `Review queue of ${name}`),
    h("section", { class: "panel", "aria-label": "Reviewer" },
      h("div", { class: "inline" }, field("Reviewer name", reviewer), field("Show", stateSelect)),
      shortcuts(), readOnlyNote()),
    messages,
    h("p", { class: "note" }, `${items.length} item(s), ${queue.order === "sample" ? "a random sample" : "lowest judge confidence first"}`),
    list);
  draw(false);
}
