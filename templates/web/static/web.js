// dn-docs web app: small enhancements; every page also works without this file.
"use strict";

function bodyDiagram() {
  const svg = document.querySelector(".body-diagram");
  if (!svg) return;
  const boxes = (area) => document.querySelectorAll('input[name="session.areas"][value="' + area + '"]');
  const paint = () => {
    svg.querySelectorAll(".zone").forEach((zone) => {
      const box = boxes(zone.dataset.area)[0];
      zone.classList.toggle("selected", Boolean(box && box.checked));
    });
  };
  svg.addEventListener("click", (event) => {
    const zone = event.target.closest(".zone");
    if (!zone) return;
    const box = boxes(zone.dataset.area)[0];
    if (box) {
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
  document.querySelectorAll('input[name="session.areas"]').forEach((box) => box.addEventListener("change", paint));
  paint();
}

function screening() {
  const section = document.getElementById("screening-questions");
  if (!section) return;
  const refusal = document.getElementById("refusal");
  const check = () => {
    const refused = Array.from(section.querySelectorAll('fieldset[data-absolute="yes"]')).some(
      (question) => question.querySelector('input[value="yes"]:checked') !== null
    );
    refusal.hidden = !refused;
  };
  section.addEventListener("change", check);
  const none = document.getElementById("none-apply");
  if (none) {
    none.hidden = false;
    none.addEventListener("click", () => {
      section.querySelectorAll('input[type="radio"][value="no"]').forEach((radio) => { radio.checked = true; });
      check();
    });
  }
  const kinds = document.querySelectorAll('input[name="kind"]');
  const showFor = () => {
    const chosen = document.querySelector('input[name="kind"]:checked');
    section.hidden = chosen !== null && chosen.value === "aftercare";
  };
  kinds.forEach((radio) => radio.addEventListener("change", showFor));
  showFor();
  check();
}

function printButtons() {
  document.querySelectorAll(".print-button").forEach((button) => {
    const frame = document.getElementById(button.dataset.frame);
    if (!frame) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      try {
        frame.contentWindow.focus();
        frame.contentWindow.print();
      } catch (error) {
        window.open(frame.src, "_blank", "noopener");
      }
    });
  });
}

function batchProgress() {
  const status = document.getElementById("batch-status");
  if (!status || status.dataset.finished === "yes") return;
  const url = status.dataset.progressUrl;
  const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
  const bar = document.getElementById("batch-progress");
  const poll = async () => {
    let state;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      state = await response.json();
    } catch (error) {
      window.setTimeout(poll, 3000);
      return;
    }
    bar.max = Math.max(state.total, 1);
    bar.value = state.done + state.failed;
    bar.textContent = bar.value + " / " + state.total;
    set("count-done", String(state.done));
    set("count-failed", String(state.failed));
    set("count-left", String(state.left));
    set("time-left", state.seconds_left ? "≈ " + state.seconds_left + " s" : "—");
    if (state.finished) {
      window.location.reload();
      return;
    }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 500);
}

document.addEventListener("DOMContentLoaded", () => {
  bodyDiagram();
  screening();
  printButtons();
  batchProgress();
});
