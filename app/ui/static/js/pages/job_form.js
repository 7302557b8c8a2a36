// The "start a job" form of a dataset page: POST /v1/datasets/{name}/jobs, then the job's page.

import { canWrite, readOnlyNote } from "../access.js";
import { api } from "../api.js";
import { clear, encode, errorBox, field, h } from "../dom.js";

const STRATEGIES = ["self_instruct", "evol", "template", "retrieval", "magpie"];

function numberInput(name, attrs) {
  return h("input", { type: "number", name, inputmode: "numeric", ...attrs });
}

export function jobForm(name, navigate) {
  const target = numberInput("target", { id: "job-target", min: 1, max: 100000, value: 20, required: true });
  const strategy = h("select", { id: "job-strategy", name: "strategy" }, STRATEGIES.map((s) => h("option", { value: s }, s)));
  const instances = numberInput("instances_per_task", { id: "job-instances", min: 0, max: 20, value: 0 });
  const maxRequests = numberInput("max_requests", { id: "job-max-requests", min: 1, max: 1000000, placeholder: "default" });
  const seed = numberInput("seed", { id: "job-seed", min: 0, placeholder: "random" });
  const settings = h("textarea", { id: "job-settings", name: "strategy_settings", rows: 2, spellcheck: "false" }, "{}");
  const submit = h("button", { type: "submit", disabled: !canWrite(), dataset: { write: "" } }, "Start job");
  const messages = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "stack", dataset: { form: "start-job" }, "aria-describedby": "job-form-help" },
    h("p", { class: "note", id: "job-form-help" }, "Generates until the target of accepted instructions is reached (or the request budget is spent)."),
    h("div", { class: "inline" },
      field("Target (accepted instructions)", target),
      field("Strategy", strategy),
      field("Instances per task", instances),
      field("Max requests", maxRequests),
      field("Seed", seed)),
    field("Strategy settings (JSON)", settings, "e.g. {\"example_choice\": \"diverse\"} for self_instruct"),
    h("div", {}, submit), readOnlyNote(), messages);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(messages);
    let strategySettings;
    try {
      strategySettings = JSON.parse(settings.value || "{}");
    } catch (error) {
      clear(messages, errorBox(new Error(`Strategy settings: not JSON (${error.message})`)));
      settings.focus();
      return;
    }
    const body = { target: Number(target.value), strategy: strategy.value, strategy_settings: strategySettings };
    if (Number(instances.value)) body.instances_per_task = Number(instances.value);
    if (maxRequests.value) body.max_requests = Number(maxRequests.value);
    if (seed.value) body.seed = Number(seed.value);
    submit.disabled = true;
    try {
      const job = await api(`/v1/datasets/${encode(name)}/jobs`, { method: "POST", body });
      navigate(`#/jobs/${job.id}`);
    } catch (error) {
      clear(messages, errorBox(error));
      submit.disabled = !canWrite();
    }
  });
  return form;
}
