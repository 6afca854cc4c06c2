// Talking to /api/v1/: the CSRF header for session auth, and errors people can read.

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

const FRIENDLY = {
  0: "You seem to be offline. Check your connection and try again.",
  401: "Please log in first.",
  403: "You are not allowed to do that.",
  404: "That no longer exists.",
  413: "That file is too large.",
  429: "Too many requests. Wait a moment and try again.",
};

// The API's error shape is {"error": {"status", "code", "message"}}.
export async function errorFrom(response) {
  let message = FRIENDLY[response.status] || "Something went wrong on our side. Please try again.";
  let code = "error";
  try {
    const body = await response.json();
    if (body && body.error && body.error.message && response.status < 500) {
      message = body.error.message;
      code = body.error.code;
    }
  } catch (_) { /* not JSON: keep the friendly message */ }
  return new ApiError(message, response.status, code);
}

export async function api(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (_) {
    throw new ApiError(FRIENDLY[0], 0, "offline");
  }
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json();
}

export function toast(message) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(box._timer);
  box._timer = setTimeout(() => { box.hidden = true; }, 5000);
}
