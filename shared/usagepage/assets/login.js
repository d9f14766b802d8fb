// A link carrying the token in its fragment (#token=...) signs in at once:
// browsers never send the fragment to a server, so the token reaches no
// log; it is posted with the form and dropped from the address bar.
(function () {
  var m = /^#token=(.+)$/.exec(location.hash);
  if (!m) return;
  history.replaceState(null, "", location.pathname + location.search);
  var form = document.getElementById("login");
  form.elements.token.value = decodeURIComponent(m[1]);
  form.submit();
})();
