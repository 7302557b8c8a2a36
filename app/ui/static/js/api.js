// The public /v1 API as the pages use it: the key from sessionStorage, errors in the one error shape.

const KEY_STORAGE = "si.apiKey";

/** An answer in the one error shape {"error": {"code", "message", "details"}} (or a transport failure). */
export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function storeKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key.trim());
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

function headers(extra = {}) {
  const result = { Accept: "application/json", ...extra };
  const key = storedKey();
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

async function errorOf(response) {
  let error = null;
  try {
    error = (await response.json()).error;
  } catch {
    // not the error shape: say what the status was
  }
  if (error && typeof error.message === "string") {
    return new ApiError(response.status, error.code || "http_error", error.message, error.details);
  }
  return new ApiError(response.status, "http_error", `HTTP ${response.status} ${response.statusText}`);
}

/** A path with its query; parameters that are null, undefined or "" are left out. */
export function withQuery(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** JSON from the API; throws ApiError for any answer that is not 2xx. */
export async function api(path, { method = "GET", body, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (exc) {
    if (exc.name === "AbortError") throw exc;
    throw new ApiError(0, "network_error", `the service did not answer (${exc.message})`);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  return response.json();
}

/** Whether ``error`` says the route itself does not exist on this server (an older API), as opposed to
 *  "no such dataset / job", which the routes word themselves. */
export function isMissingRoute(error) {
  return error instanceof ApiError && error.status === 404 && error.code === "not_found" && error.message === "Not Found";
}

/** ``api(path)``, or ``null`` when this server does not have the route (the page shows "not available"). */
export async function optionalApi(path, options) {
  try {
    return await api(path, options);
  } catch (error) {
    if (isMissingRoute(error)) return null;
    throw error;
  }
}

/** Server-sent events of ``path`` as {event, data} objects. fetch() rather than EventSource, which cannot
 *  send the Authorization header; frames are split on blank lines (sse-starlette writes CRLF). */
export async function* serverSentEvents(path, signal) {
  let response;
  try {
    response = await fetch(path, { signal, headers: headers({ Accept: "text/event-stream" }) });
  } catch (exc) {
    if (exc.name === "AbortError") return;
    throw new ApiError(0, "network_error", `the event stream did not open (${exc.message})`);
  }
  if (!response.ok) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const frames = buffer.split(/\r\n\r\n|\n\n|\r\r/);
      buffer = frames.pop();
      for (const frame of frames) {
        const parsed = parseFrame(frame);
        if (parsed) yield parsed;
      }
    }
  } catch (exc) {
    if (exc.name !== "AbortError") throw exc;
  } finally {
    reader.releaseLock();
  }
}

function parseFrame(frame) {
  let event = "message";
  const data = [];
  for (const line of frame.split(/\r\n|\n|\r/)) {
    if (!line || line.startsWith(":")) continue; // a comment: sse-starlette's ping
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}
