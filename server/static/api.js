"use strict";
// Calls to the JSON API from the pages: the session cookie goes along, and state-changing
// calls carry the CSRF token and a request id, so a retry after a network error is harmless.
const labelerApi = (function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  class ApiError extends Error {
    constructor(message, status) { super(message); this.status = status; }
  }

  function newRequestId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function read(response) {
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    if (!response.ok) {
      if (response.status === 401) window.location.assign("/login");
      throw new ApiError((data && data.error) || response.statusText, response.status);
    }
    return data;
  }

  async function get(path) {
    return read(await fetch(path, { credentials: "same-origin" }));
  }

  // POST with retries on network failures only; the server answers a repeated request id
  // with its first answer.
  async function post(path, body) {
    for (let attempt = 0; ; attempt += 1) {
      let response;
      try {
        response = await fetch(path, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify(body),
        });
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 300 * (attempt + 1)));
        continue;
      }
      return read(response);
    }
  }

  return { get, post, newRequestId, ApiError };
})();
