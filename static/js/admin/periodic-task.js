// The periodic task form of django-celery-beat in the admin: the chosen crontab in words,
// under the field. The package ships this as an inline script, which the
// Content-Security-Policy refuses, so templates/admin/djcelery/ loads this file instead.
(function () {
  "use strict";
  const script = document.currentScript;
  const source = document.getElementById("readable-crontabs");
  const select = document.getElementById("id_crontab");
  const help = document.querySelector(".field-crontab .help");
  if (!script || !source || !select) return;
  const readable = JSON.parse(source.textContent);
  const original = script.dataset.crontabHelp || "";

  for (const row of document.querySelectorAll(".field-crontab_translation")) {
    row.style.display = "none";
  }
  select.addEventListener("change", () => {
    if (!help) return;
    const words = readable[select.value];
    help.replaceChildren(original, document.createElement("br"), `Translation: ${words}`);
  });
})();
