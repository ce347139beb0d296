"use strict";
// A one-time login link carries the token after '#', which never reaches the server's logs:
// fill it in, drop it from the address bar and log in.
(function () {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  history.replaceState(null, "", window.location.pathname);
  document.getElementById("token").value = decodeURIComponent(match[1]);
  document.getElementById("login-form").submit();
})();
