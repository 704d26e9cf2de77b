// Optional: pick the visitor's time zone when the URL names none. Without JavaScript the page
// shows the host's zone and a picker; with it, the browser's zone is used from the first view.
(function () {
  var params = new URLSearchParams(window.location.search);
  if (params.has("tz")) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var page = document.documentElement.getAttribute("data-zone");
  if (!zone || zone === page) return;
  var select = document.getElementById("tz");
  if (select && !Array.prototype.some.call(select.options, function (o) { return o.value === zone; })) return;
  params.set("tz", zone);
  window.location.replace(window.location.pathname + "?" + params.toString());
})();
