// The pages' few behaviours: the browser's time zone beside the dates, a drop zone for the
// contacts file, no accidental submit with Enter on the new-campaign form, and a confirmation
// naming what is lost before an irreversible action (Cancel, Delete, Remove).
document.addEventListener("submit", (event) => {
  const ask = event.target instanceof HTMLFormElement ? event.target.dataset.confirm : undefined;
  if (ask && !window.confirm(ask)) event.preventDefault();
});

document.addEventListener("DOMContentLoaded", () => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  document.querySelectorAll("[data-browser-tz]").forEach((el) => { el.textContent = zone; });
  document.querySelectorAll("[data-browser-tz-input]").forEach((el) => { el.value = zone; });

  document.querySelectorAll("[data-dropzone]").forEach((area) => {
    const input = area.querySelector("input[type=file]");
    area.addEventListener("dragover", (event) => { event.preventDefault(); area.classList.add("over"); });
    area.addEventListener("dragleave", () => area.classList.remove("over"));
    area.addEventListener("drop", (event) => {
      event.preventDefault();
      area.classList.remove("over");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  const form = document.getElementById("new-campaign");
  if (form) {
    form.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.tagName === "INPUT") event.preventDefault();
    });
  }
});
