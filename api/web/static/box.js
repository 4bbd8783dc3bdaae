// The photo form's box: once a photo is chosen it is drawn below the box field (on a canvas,
// so the page's content policy needs no blob: or data: images), and a box dragged on it
// (mouse, pen or finger) is written into the field in the photo's own pixels. Without this
// script the field is typed by hand; with it, it can still be typed.
"use strict";
(function () {
  var file = document.getElementById("photo");
  var field = document.getElementById("box");
  var picker = document.getElementById("box-picker");
  var preview = document.getElementById("box-preview");
  var drawn = document.getElementById("box-drawn");
  if (!file || !field || !picker || !preview || !drawn) { return; }
  var start = null;

  function point(event) {
    var area = preview.getBoundingClientRect();
    return {
      x: Math.min(Math.max(event.clientX - area.left, 0), area.width),
      y: Math.min(Math.max(event.clientY - area.top, 0), area.height)
    };
  }

  function show(a, b) {
    var left = Math.min(a.x, b.x), top = Math.min(a.y, b.y);
    var width = Math.abs(a.x - b.x), height = Math.abs(a.y - b.y);
    drawn.hidden = width < 2 || height < 2;
    drawn.style.left = left + "px";
    drawn.style.top = top + "px";
    drawn.style.width = width + "px";
    drawn.style.height = height + "px";
    var scale = preview.width / preview.getBoundingClientRect().width;
    if (!drawn.hidden) {
      field.value = [left, top, Math.max(1, width), Math.max(1, height)]
        .map(function (v) { return Math.round(v * scale); }).join(",");
    }
  }

  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    if (!chosen) { picker.hidden = true; return; }
    createImageBitmap(chosen).then(function (bitmap) {
      preview.width = bitmap.width;
      preview.height = bitmap.height;
      preview.getContext("2d").drawImage(bitmap, 0, 0);
      picker.hidden = false;
      drawn.hidden = true;
    }, function () { picker.hidden = true; });
  });
  picker.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    start = point(event);
    if (picker.setPointerCapture) { picker.setPointerCapture(event.pointerId); }
  });
  picker.addEventListener("pointermove", function (event) {
    if (start) { show(start, point(event)); }
  });
  picker.addEventListener("pointerup", function (event) {
    if (start) { show(start, point(event)); }
    start = null;
  });
})();
