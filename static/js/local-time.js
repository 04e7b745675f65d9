// Shows every <time datetime="...Z" data-local="..."> in the viewer's own time zone.
// Without JavaScript the server's text (in DISPLAY_TIME_ZONE, zone named) stays.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  var styles = {
    datetime: { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", timeZoneName: "short" },
    time: { hour: "2-digit", minute: "2-digit", timeZoneName: "short" },
    date: { year: "numeric", month: "2-digit", day: "2-digit" },
    day: { weekday: "short", day: "numeric", month: "short" }
  };
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when.getTime())) {
      return;
    }
    var options = styles[el.getAttribute("data-local")] || styles.datetime;
    el.title = when.toISOString().replace(".000Z", "Z") + " (UTC)";
    el.textContent = new Intl.DateTimeFormat(undefined, options).format(when);
  });
  document.querySelectorAll("[data-zone-name]").forEach(function (el) {
    if (zone) {
      el.textContent = zone + " (your browser's zone)";
    }
  });
})();
