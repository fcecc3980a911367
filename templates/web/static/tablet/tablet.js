// The tablet's signature pad: pointer events, so a finger, a stylus and a mouse all draw.
// The drawing is sent as a PNG in the form's "image" field; "Type my name instead"
// hides the pad and sends the typed name as the signature.
"use strict";

(function () {
  const form = document.getElementById("sign-form");
  if (!form) {
    return;
  }
  const canvas = document.getElementById("pad");
  const padArea = document.getElementById("pad-area");
  const nameField = document.getElementById("name-field");
  const nameInput = document.getElementById("name");
  const imageInput = document.getElementById("image");
  const offsetInput = document.getElementById("utc-offset");
  const emptyError = document.getElementById("empty-error");
  const hasPrintedName = form.dataset.hasPrintedName === "yes";
  const context = canvas.getContext("2d");
  let drawn = false;
  let last = null;

  function size() {
    // The canvas's pixels match its size on screen, so strokes are sharp.
    const ratio = window.devicePixelRatio || 1;
    const box = canvas.getBoundingClientRect();
    canvas.width = Math.round(box.width * ratio);
    canvas.height = Math.round(box.height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.lineWidth = 3;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#122a8c";
    drawn = false;
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    context.beginPath();
    context.arc(last.x, last.y, 1, 0, 2 * Math.PI);
    context.fillStyle = context.strokeStyle;
    context.fill();
    drawn = true;
    emptyError.hidden = true;
  });
  canvas.addEventListener("pointermove", function (event) {
    if (last === null) {
      return;
    }
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const each of events.length ? events : [event]) {
      const next = point(each);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      last = next;
    }
  });
  for (const name of ["pointerup", "pointercancel", "pointerleave"]) {
    canvas.addEventListener(name, function () {
      last = null;
    });
  }
  document.getElementById("clear").addEventListener("click", function () {
    context.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
  });

  function typed() {
    return form.querySelector('input[name="method"]:checked').value === "typed";
  }

  function showMethod() {
    padArea.hidden = typed();
    // With a printed name, the name is typed only as the signature itself.
    nameField.hidden = hasPrintedName && !typed();
  }
  for (const radio of form.querySelectorAll('input[name="method"]')) {
    radio.addEventListener("change", showMethod);
  }

  form.addEventListener("submit", function (event) {
    offsetInput.value = String(-new Date().getTimezoneOffset());
    if (typed()) {
      imageInput.value = "";
      if (!nameInput.value.trim()) {
        event.preventDefault();
        emptyError.hidden = false;
      }
      return;
    }
    if (!drawn || (!hasPrintedName && !nameInput.value.trim())) {
      event.preventDefault();
      emptyError.hidden = false;
      return;
    }
    imageInput.value = canvas.toDataURL("image/png");
  });

  size();
  showMethod();
  window.addEventListener("resize", size);
})();
