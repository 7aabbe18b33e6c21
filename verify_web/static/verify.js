/* gimark verification page: the optional location button. The page works without this
   file; with it, a reader who agrees shares a position rounded to about 1 km (two decimals
   of a degree), rounded here so the precise one never leaves the phone. ES5: in-app
   browsers on old phones still run this. */
(function () {
  var box = document.getElementById("gm-locate-box");
  var button = document.getElementById("gm-locate");
  if (!box || !button || !navigator.geolocation) return;
  var status = document.getElementById("gm-locate-status");
  box.hidden = false;
  function withPlace(lat, lon) {
    var kept = location.search.replace(/^\?/, "").split("&").filter(function (part) {
      return part && !/^(lat|lon)=/.test(part);
    });
    kept.push("lat=" + lat.toFixed(2), "lon=" + lon.toFixed(2));
    return location.pathname + "?" + kept.join("&");
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        location.replace(withPlace(position.coords.latitude, position.coords.longitude));
      },
      function () {
        button.disabled = false;
        status.textContent = button.getAttribute("data-failed");
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 }
    );
  });
})();
