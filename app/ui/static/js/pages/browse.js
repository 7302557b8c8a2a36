// #/datasets/{name}/instructions?q=&accepted= — stored instructions page by page (accepted=true|false|all),
// or with ``q`` the nearest ones by cosine (GET …/similar?q=&k=20).

import { api, withQuery } from "../api.js";
import { clear, encode, errorBox, field, fmtInt, h } from "../dom.js";
import { instructionRow, similarRow } from "./rows.js";

export const PAGE = "browse";
const PAGE_SIZE = 50;
const SIMILAR_K = 20;
const DECISIONS = { true: "accepted", false: "rejected", all: "all" };
const ORIGINS = ["seed", "generated", "submitted", "ingested"];

export async function render(main, { params, query, signal, navigate }) {
  const [name] = params;
  const base = `/v1/datasets/${encode(name)}`;
  const q = query.get("q") || "";
  const accepted = DECISIONS[query.get("accepted")] ? query.get("accepted") : "true";
  const rule = query.get("rule") || "";
  const origin = ORIGINS.includes(query.get("origin")) ? query.get("origin") : "";

  const search = h("input", { id: "browse-q", type: "search", name: "q", value: q, maxlength: 10000, size: 50 });
  const decision = h("select", { id: "browse-accepted", name: "accepted" },
    Object.entries({ true: "accepted", false: "rejected", all: "all" }).map(([value, label]) =>
      h("option", { value, selected: value === accepted }, label)));
  const ruleInput = h("input", { id: "browse-rule", name: "rule", value: rule, size: 14, placeholder: "any" });
  const originSelect = h("select", { id: "browse-origin", name: "origin" },
    h("option", { value: "" }, "any"), ORIGINS.map((value) => h("option", { value, selected: value === origin }, value)));
  const form = h("form", { class: "inline", role: "search", dataset: { form: "browse" } },
    field("Search similar instructions", search, "empty: list the stored rows"),
    field("Decision", decision), field("Origin", originSelect), field("Rejecting rule", ruleInput),
    h("button", { type: "submit" }, q ? "Search" : "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = withQuery(`#/datasets/${encode(name)}/instructions`, {
      q: search.value.trim(), accepted: decision.value === "true" ? "" : decision.value, origin: originSelect.value, rule: ruleInput.value.trim(),
    });
    navigate(next);
  });

  const list = h("ol", { class: "rows", dataset: { results: q ? "similar" : "list" }, "aria-label": q ? "Nearest instructions" : "Instructions" });
  const status = h("p", { class: "note", "aria-live": "polite", dataset: { resultCount: "" } });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const messages = h("div");
  let cursor = null;
  let shown = 0;

  async function nextPage() {
    const page = await api(withQuery(`${base}/instructions`, {
      limit: PAGE_SIZE, decision: DECISIONS[accepted], origin: origin || null, rule: rule || null, cursor,
    }), { signal });
    list.append(...page.items.map(instructionRow));
    shown += page.items.length;
    cursor = page.next_cursor;
    more.hidden = !cursor;
    clear(status, `${fmtInt(shown)} ${DECISIONS[accepted] === "all" ? "" : `${DECISIONS[accepted]} `}instructions${cursor ? " (more available)" : ""}`);
  }
  more.addEventListener("click", async () => {
    const first = list.children.length;
    try {
      await nextPage();
      list.children[first]?.setAttribute("tabindex", "-1");
      list.children[first]?.focus();
    } catch (error) {
      clear(messages, errorBox(error));
    }
  });

  clear(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Datasets"), " / ", h("a", { href: `#/datasets/${encode(name)}` }, name), " / instructions"),
    h("h1", {}, q ? `Instructions like “${q}”` : `Instructions of ${name}`),
    h("section", { class: "panel", "aria-label": "Search" }, form),
    messages, status, list, more);
  try {
    if (q) {
      const result = await api(withQuery(`${base}/similar`, { q, k: SIMILAR_K }), { signal });
      list.append(...result.items.map((item) => similarRow(name, item)));
      clear(status, `${fmtInt(result.items.length)} nearest by cosine (seeds and accepted instructions)`);
    } else {
      await nextPage();
    }
  } catch (error) {
    if (error.name === "AbortError") throw error;
    clear(messages, errorBox(error));
  }
}
