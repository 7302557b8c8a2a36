// #/jobs/{id} — a job as it runs, from its event stream: progress, the yield curve (accepted per window),
// rejection reasons over time, requests in flight, tokens and cost per accepted.

import { canWrite, readOnlyNote } from "../access.js";
import { api, optionalApi, serverSentEvents, withQuery } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { badge, cards, clear, encode, errorBox, facts, fmtInt, fmtNum, fmtTime, h, notAvailable, section } from "../dom.js";

export const PAGE = "job";
const TIMELINE_WINDOW = 20;
const TIMELINE_EVERY_MS = 1000; // the timeline is read at most once a second while progress arrives
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const RECONNECT_MS = 2000;

function yieldChart(timeline) {
  const windows = timeline.windows;
  return lineChart({
    id: "yield", title: "Yield curve", subtitle: `accepted per ${timeline.window} candidates`,
    series: [
      { name: "accepted", points: windows.map((w) => ({ x: w.index, y: w.accepted })) },
      { name: "decided", points: windows.map((w) => ({ x: w.index, y: w.decided })) }, // the last window may be partial
    ],
    xTitle: "window", yTitle: "accepted", yMax: timeline.window, format: (v) => fmtNum(v, 0),
  });
}

function rejectionsOverTime(timeline) {
  const rules = [...new Set(timeline.windows.flatMap((w) => Object.keys(w.rejections || {})))];
  return lineChart({
    id: "rejections-over-time", title: "Rejection reasons over time", subtitle: `per ${timeline.window} candidates`,
    series: rules.map((rule) => ({ name: rule, points: timeline.windows.map((w) => ({ x: w.index, y: w.rejections?.[rule] || 0 })) })),
    xTitle: "window", yTitle: "rejected", format: (v) => fmtNum(v, 0),
  });
}

function rejectionsSoFar(job) {
  const entries = Object.entries(job.counts.decisions).filter(([key]) => key !== "accepted");
  const dropped = Object.entries(job.counts.parse_dropped).map(([key, n]) => [`parse:${key}`, n]);
  const all = [...entries, ...dropped];
  return barChart({
    id: "job-rejections", title: "Rejections so far", labels: all.map(([key]) => key),
    series: [{ name: "candidates", values: all.map(([, n]) => n) }], xTitle: "rule", yTitle: "candidates", format: (v) => fmtNum(v, 0),
  });
}

function noveltyChart(job) {
  const curve = job.novelty_curve || [];
  return lineChart({
    id: "job-novelty", title: "Share accepted per window", series: [{ name: "share accepted", points: curve.map((y, i) => ({ x: i + 1, y })) }],
    xTitle: "window", yTitle: "share", yMax: 1, format: (v) => fmtNum(v, 3),
  });
}

function headline(job) {
  const share = job.target ? Math.min(1, job.accepted / job.target) : 0;
  return [
    h("p", {}, "Status ", badge(job.status), job.stop_reason ? h("span", { class: "note" }, ` — ${job.stop_reason}`) : null),
    h("label", { for: "job-progress" }, `Progress: ${fmtInt(job.accepted)} of ${fmtInt(job.target)} accepted`),
    h("progress", { id: "job-progress", max: job.target, value: Math.min(job.accepted, job.target), "aria-valuetext": `${Math.round(share * 100)}%` }),
    cards([
      ["Accepted", fmtInt(job.accepted), "accepted"], ["Rejected", fmtInt(job.rejected), "rejected"],
      ["Generated", fmtInt(job.generated), "generated"], ["Requests", `${fmtInt(job.requests)} / ${fmtInt(job.max_requests)}`, "requests"],
      ["In flight", "in_flight" in job ? fmtInt(job.in_flight) : "not available", "in-flight"],
      ["Tokens per accepted", fmtNum(job.tokens_per_accepted, 2), "tokens-per-accepted"],
      ["Cost per accepted", job.cost_per_accepted === null ? "—" : fmtNum(job.cost_per_accepted, 6), "cost-per-accepted"],
    ]),
    h("br"),
    facts([
      ["Dataset", h("a", { href: `#/datasets/${encode(job.dataset)}` }, job.dataset)],
      ["Strategy", `${job.strategy}${Object.keys(job.strategy_settings).length ? ` ${JSON.stringify(job.strategy_settings)}` : ""}`],
      ["Tokens", `${fmtInt(job.prompt_tokens)} prompt + ${fmtInt(job.completion_tokens)} completion`],
      ["Cost", job.cost === null ? "—" : fmtNum(job.cost, 6)],
      ["Created / started / finished", `${fmtTime(job.created_at)} / ${fmtTime(job.started_at)} / ${fmtTime(job.finished_at)}`],
      ...(job.error ? [["Error", job.error]] : []),
      ...(job.warnings.length ? [["Warnings", job.warnings.join("; ")]] : []),
    ]),
  ];
}

export async function render(main, { params, signal }) {
  const id = Number(params[0]);
  let job = await api(`/v1/jobs/${id}`, { signal });
  const head = h("div", { "aria-live": "polite", dataset: { jobHead: "" } });
  const timelineNode = h("div", { class: "grid", dataset: { timeline: "" } });
  const countsNode = h("div", { class: "grid" });
  const streamNote = h("p", { class: "note", dataset: { stream: "" } }, "connecting to the event stream…");
  const messages = h("div");
  const cancel = h("button", { type: "button", class: "danger", disabled: !canWrite(), dataset: { write: "" } }, "Cancel job");
  const page = h("div", { dataset: { jobPage: id, status: job.status, events: 0 } });
  let timelineAt = 0;
  let timelinePending = null;

  const draw = () => {
    page.dataset.status = job.status;
    clear(head, ...headline(job));
    clear(countsNode, h("div", { class: "panel" }, rejectionsSoFar(job)), h("div", { class: "panel" }, noveltyChart(job)));
    cancel.hidden = TERMINAL.has(job.status);
  };
  let timelineRead = 0; // only the latest read is drawn, whichever answers first
  const loadTimeline = async () => {
    timelineAt = Date.now();
    const read = ++timelineRead;
    try {
      const timeline = await optionalApi(withQuery(`/v1/jobs/${id}/timeline`, { window: TIMELINE_WINDOW }), { signal });
      if (read !== timelineRead) return;
      if (timeline === null) clear(timelineNode, notAvailable("Yield curve and rejections over time"));
      else clear(timelineNode, h("div", { class: "panel" }, yieldChart(timeline)), h("div", { class: "panel" }, rejectionsOverTime(timeline)));
      timelineNode.dataset.loaded = String(Date.now());
    } catch (error) {
      if (error.name !== "AbortError") clear(timelineNode, errorBox(error));
    }
  };
  const timelineSoon = () => {
    if (timelinePending) return;
    const wait = Math.max(0, TIMELINE_EVERY_MS - (Date.now() - timelineAt));
    timelinePending = setTimeout(async () => {
      await loadTimeline();
      timelinePending = null;
    }, wait);
  };
  signal.addEventListener("abort", () => clearTimeout(timelinePending));

  cancel.addEventListener("click", async () => {
    clear(messages);
    try {
      job = await api(`/v1/jobs/${id}/cancel`, { method: "POST" });
      draw();
    } catch (error) {
      clear(messages, errorBox(error));
    }
  });

  draw();
  await loadTimeline();
  clear(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Datasets"), " / ", h("a", { href: `#/datasets/${encode(job.dataset)}` }, job.dataset), ` / job ${id}`),
    h("h1", {}, `Job ${id}`),
    page);
  page.append(
    section("Progress", head, streamNote, h("div", { class: "row-actions" }, cancel), readOnlyNote(), messages),
    section("Yield and rejections over time", timelineNode),
    section("Decisions", countsNode));
  follow();

  async function follow() {
    while (!signal.aborted) {
      try {
        clear(streamNote, "live: following the event stream");
        for await (const { event, data } of serverSentEvents(`/v1/jobs/${id}/events`, signal)) {
          job = JSON.parse(data);
          page.dataset.events = String(Number(page.dataset.events) + 1);
          page.dataset.seen = `${page.dataset.seen || ""} ${job.status}:${job.accepted}`.trim(); // what each event said
          draw();
          if (event === "end") break;
          timelineSoon();
        }
      } catch (error) {
        if (signal.aborted) return;
        clear(streamNote, errorBox(error));
      }
      if (TERMINAL.has(job.status)) {
        clearTimeout(timelinePending);
        await loadTimeline(); // the finished job's whole timeline
        clear(streamNote, `finished: the job ${job.status}`);
        page.dataset.done = "true";
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS)); // the service restarted or the stream dropped
    }
  }
}
