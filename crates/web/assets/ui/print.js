// Print buttons of the slips (no inline script, so the pages can forbid it).
document.addEventListener("click", function (e) {
  if (e.target.closest("[data-print]")) window.print();
});
