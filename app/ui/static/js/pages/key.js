// #/key — enter or forget the API key (kept in sessionStorage: gone when the tab closes) and see its scope.

import { access, refreshAccess } from "../access.js";
import { forgetKey, storeKey, storedKey } from "../api.js";
import { clear, facts, field, h } from "../dom.js";

export const PAGE = "key";

function describe() {
  if (access.needKey) {
    return storedKey() ? "The key entered is not valid here (unknown or revoked)." : "This service requires an API key.";
  }
  if (!access.known) {
    return access.error
      ? `The key's scope could not be read: ${access.error}`
      : "This server does not report key scopes; a refused write shows the server's message.";
  }
  if (!access.keysRequired) return "API keys are off on this service: every page and action works without one.";
  return access.scope === "read"
    ? "Read-only key: pages show everything, actions that change data are disabled."
    : `The key has the ${access.scope} scope.`;
}

export async function render(main, { query, navigate }) {
  const input = h("input", { id: "api-key", type: "password", name: "api-key", autocomplete: "off", spellcheck: "false", size: 50, placeholder: "si_…" });
  const status = h("div", { "aria-live": "polite", dataset: { keyStatus: "" } });
  const next = query.get("next");
  const show = () => clear(status,
    h("p", { dataset: { keyMessage: "" } }, describe()),
    facts([
      ["Key entered", storedKey() ? `${storedKey().slice(0, 10)}…` : "none", "key"],
      ["Keys required", access.known ? (access.keysRequired ? "yes" : "no") : access.needKey ? "yes" : "not available", "keys-required"],
      ["Scope", access.known ? access.scope : "not available", "scope"],
    ]));
  const form = h("form", { class: "stack", dataset: { form: "key" } },
    field("API key", input, "Sent as Authorization: Bearer <key> to this service only; kept for this tab (sessionStorage)."),
    h("div", { class: "row-actions" },
      h("button", { type: "submit" }, "Use this key"),
      h("button", { type: "button", class: "secondary", dataset: { forget: "" }, onclick: async () => {
        forgetKey();
        await refreshAccess();
        show();
        input.focus();
      } }, "Forget the key")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.value.trim()) {
      input.focus();
      return;
    }
    storeKey(input.value);
    input.value = "";
    await refreshAccess();
    show();
    if (next && !access.needKey && next.startsWith("#/") && !next.startsWith("#/key")) navigate(next);
  });
  clear(main, h("h1", {}, "API key"), h("section", { class: "panel" }, status, form));
  show();
}
