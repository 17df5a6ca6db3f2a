// Ctrl/Cmd+Enter submits the form the cursor is in (the prompt box, mostly).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  const form = event.target.closest && event.target.closest("form");
  if (form) {
    event.preventDefault();
    form.requestSubmit();
  }
});
