// JSON requests to the chat's HTTP API (docs/protocol.md), with the page's
// CSRF token on every change. A refusal throws an ApiError carrying the
// server's translated ``detail``.

export class ApiError extends Error {
  constructor(detail, status, code) {
    super(detail || `HTTP ${status}`);
    this.detail = detail || "";
    this.status = status;
    this.code = code || "";
  }
}

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// ``method`` ``url`` with ``body`` as JSON; return the answer's JSON (null
// for an empty answer) and its status.
export async function request(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    console.warn("chat: request failed", method, url, error);
    throw new ApiError("", 0, "network");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(data && data.detail, response.status, data && data.code);
  return { data, status: response.status };
}

// What to tell the reader about ``error``: the server's words if it gave any.
export function problem(error, strings) {
  return (error instanceof ApiError && error.detail) || strings.requestFailed || String(error);
}
