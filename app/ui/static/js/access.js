// What the entered key may do, from GET /v1/auth: {keys_required, scope}. A server without that route
// leaves it unknown: writes are offered, and the server's refusal (401/403) is shown as it comes.

import { ApiError, api, isMissingRoute, storedKey } from "./api.js";
import { badge, clear, h } from "./dom.js";

export const access = { known: false, keysRequired: null, scope: null, needKey: false, error: null };

export async function refreshAccess() {
  Object.assign(access, { known: false, keysRequired: null, scope: null, needKey: false, error: null });
  try {
    const answer = await api("/v1/auth");
    Object.assign(access, { known: true, keysRequired: answer.keys_required, scope: answer.scope });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) access.needKey = true;
    else if (!isMissingRoute(error)) access.error = error.message;
  }
  renderAccess();
  return access;
}

/** False only when the server said the key is read-only; the server still decides every write. */
export function canWrite() {
  return !(access.known && access.scope === "read");
}

export const READ_ONLY_NOTE = "Read-only key: this needs a key with the write scope (enter one on the key page).";

/** The note beside write controls when the key is read-only, else null. */
export function readOnlyNote() {
  return canWrite() ? null : h("p", { class: "note readonly", dataset: { readonly: "" } }, READ_ONLY_NOTE, " ", h("a", { href: "#/key" }, "API key"));
}

function renderAccess() {
  const node = document.getElementById("access");
  if (!node) return;
  if (access.needKey) {
    clear(node, storedKey() ? "key not accepted" : "API key required", badge("no access", "readonly"));
  } else if (access.known) {
    const scope = access.keysRequired ? access.scope : "keys off";
    clear(node, "access:", badge(access.scope === "read" ? "read-only" : scope, access.scope === "read" ? "readonly" : "ok"));
  } else {
    clear(node, storedKey() ? "key entered (scope not reported)" : "no key entered");
  }
}
