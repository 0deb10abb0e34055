// nn serve's page: draw on #pad; the drawing goes to POST /api/predict as a PNG (prepared on the server exactly as
// nn predict prepares pictures), at most one request in flight and one every THROTTLE_MS while drawing.
// For a table model (the card lists "columns") the page shows a form instead: one field per input column, sent as
// {"features": {…}} on Predict and on every change.
"use strict";

const THROTTLE_MS = 120;
const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
let model = null;
let drawing = false, dirty = false, inFlight = false, lastSent = 0, timer = 0, strokes = 0;

function clearPad() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.fillStyle = "#000";
  strokes = 0;
  document.getElementById("prediction").textContent = "";
  document.getElementById("status").textContent = "draw with a mouse, pen or finger";
  document.getElementById("layers").textContent = "draw something";
  drawSeen(null);
  showBars(null);
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener("pointerdown", e => {
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  drawing = true;
  strokes++;
  const [x, y] = point(e);
  ctx.beginPath();
  ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI);
  ctx.fill();
  ctx.beginPath();
  ctx.moveTo(x, y);
  changed();
});
pad.addEventListener("pointermove", e => {
  if (!drawing) return;
  e.preventDefault();
  const [x, y] = point(e);
  ctx.lineTo(x, y);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(x, y);
  changed();
});
for (const type of ["pointerup", "pointercancel"]) pad.addEventListener(type, () => {
  if (!drawing) return;
  drawing = false;
  changed();
});

// Throttle: send now if nothing is in flight and the last request is old enough, otherwise once it is.
function changed() {
  dirty = true;
  showPending();
  if (inFlight || timer) return;
  const wait = Math.max(0, lastSent + THROTTLE_MS - performance.now());
  timer = setTimeout(send, wait);
}

// data-pending = 1 while a drawing waits for its answer (the browser test waits for 0)
function showPending() {
  document.body.dataset.pending = String(dirty || inFlight ? 1 : 0);
}

async function send() {
  timer = 0;
  if (!dirty || inFlight) return;
  dirty = false;
  inFlight = true;
  lastSent = performance.now();
  try {
    const blob = await new Promise(resolve => pad.toBlob(resolve, "image/png"));
    const form = new FormData();
    form.append("image", blob, "drawing.png");
    const response = await fetch("api/predict?activations=true", { method: "POST", body: form });
    const body = await response.json();
    if (strokes === 0) return; // cleared while the answer was on its way
    if (response.ok) show(body);
    else document.getElementById("status").textContent = body.detail || body.title || response.statusText;
  } catch (err) {
    document.getElementById("status").textContent = "no answer from the server: " + err;
  } finally {
    inFlight = false;
    if (dirty) changed();
    showPending();
    document.body.dataset.answers = String(Number(document.body.dataset.answers || 0) + 1);
  }
}

function show(answer) {
  document.getElementById("prediction").textContent = answer.label;
  document.getElementById("status").textContent = "";
  drawSeen(answer.preprocessed);
  showBars(answer.probabilities, answer.prediction);
  showLayers(answer.activations || []);
}

function drawSeen(pixels) {
  const seen = document.getElementById("seen");
  const c = seen.getContext("2d");
  const [h, w] = model ? model.side : [28, 28];
  if (seen.width !== w || seen.height !== h) { seen.width = w; seen.height = h; }
  if (!pixels) { c.clearRect(0, 0, w, h); return; }
  c.putImageData(grey(pixels, w, h, 1), 0, 0);
}

// values ≥ 0 as grey levels, v/scale clamped to [0, 1] (1 white)
function grey(values, w, h, scale) {
  const image = new ImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = Math.max(0, Math.min(1, values[i] / scale)) * 255;
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  return image;
}

function showBars(p, best) {
  const bars = document.getElementById("bars");
  if (!model) return;
  bars.textContent = "";
  model.classes.forEach((name, c) => {
    const label = document.createElement("span");
    label.textContent = name;
    const bar = document.createElement("div");
    bar.className = "bar" + (p && c === best ? " best" : "");
    const fill = document.createElement("div");
    fill.style.width = p ? (100 * p[c]).toFixed(1) + "%" : "0";
    bar.appendChild(fill);
    const value = document.createElement("span");
    value.textContent = p ? (100 * p[c]).toFixed(1) + "%" : "";
    value.className = "probability";
    bars.append(label, bar, value);
  });
}

const ACTIVATIONS = new Set(["ReLU", "LeakyReLU", "Tanh", "Sigmoid"]);
const WEIGHTED = new Set(["Conv2d", "Linear"]);

// What each layer sees: the output of every nonlinearity, named after the convolution or linear layer it follows; feature maps (C, H, W) as
// small images, flat vectors (hidden units) as a strip. Each is scaled by its own largest value.
function showLayers(layers) {
  const root = document.getElementById("layers");
  root.textContent = "";
  root.className = "";
  let previous = null;
  for (const layer of layers) {
    if (WEIGHTED.has(layer.type)) previous = layer;
    if (!ACTIVATIONS.has(layer.type)) continue;
    const box = document.createElement("div");
    box.className = "layer";
    const title = document.createElement("h3");
    const source = previous ? previous.layer.replace(/\n/g, " ") : "the input";
    const what = layer.shape.length === 3 ? `${layer.shape[0]} maps of ${layer.shape[1]}×${layer.shape[2]}` : `${layer.values.length} units`;
    title.textContent = `${source} → ${layer.type}: ${what}`;
    box.appendChild(title);
    const max = layer.values.reduce((a, v) => Math.max(a, v), 1e-6);
    if (layer.shape.length === 3) {
      const [c, h, w] = layer.shape;
      const maps = document.createElement("div");
      maps.className = "maps";
      for (let k = 0; k < Math.min(c, 64); k++) {
        const canvas = document.createElement("canvas");
        canvas.width = w; canvas.height = h;
        const own = layer.values.slice(k * h * w, (k + 1) * h * w);
        canvas.getContext("2d").putImageData(grey(own, w, h, max), 0, 0);
        maps.appendChild(canvas);
      }
      box.appendChild(maps);
    } else {
      const n = layer.values.length;
      const canvas = document.createElement("canvas");
      canvas.className = "strip";
      canvas.width = n; canvas.height = 1;
      canvas.getContext("2d").putImageData(grey(layer.values, n, 1, max), 0, 0);
      box.appendChild(canvas);
    }
    root.appendChild(box);
  }
  if (!root.children.length) root.textContent = "the model has no hidden nonlinearity to show";
}

async function loadModel() {
  const response = await fetch("api/model");
  const card = await response.json();
  const shape = card.inputShape;
  const side = shape.length === 3 ? [shape[1], shape[2]] : [Math.round(Math.sqrt(shape[0])), Math.round(Math.sqrt(shape[0]))];
  model = { classes: card.classes, side };
  document.getElementById("card-summary").textContent =
    card.summary + (card.testAccuracy !== undefined ? ` · test accuracy ${(100 * card.testAccuracy).toFixed(2)}%` : "");
  document.getElementById("preparation").textContent = card.preparation || "";
  const dl = document.getElementById("card");
  const rows = [["model", card.summary], ["file", card.file], ["parameters", card.parameters.toLocaleString("en")]];
  if (card.columns) {
    buildForm(card);
    rows.push(["task", `${card.task} of '${card.target}'`],
      ["input", `${card.columns.length} columns → ${shape.join("×")} inputs: ${card.columns.map(c => c.name).join(", ")}`]);
    if (card.task === "classification") rows.push(["classes", card.classes.join(" ")]);
  } else {
    rows.push(["input", shape.join("×")], ["classes", card.classes.join(" ")]);
  }
  if (card.testAccuracy !== undefined) rows.push(["test accuracy", (100 * card.testAccuracy).toFixed(2) + "%"]);
  for (const [k, v] of Object.entries(card.metadata)) if (k !== "test_accuracy") rows.push([k, v]);
  rows.push(["architecture", JSON.stringify(card.architecture)]);
  for (const [k, v] of rows) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  }
  showBars(null);
  document.body.dataset.ready = "1";
  if (card.columns) predictRow();
}

// Table models: the form, built from the card's columns (a number field starts at the training mean, a select at the
// first category), and one request in flight at a time; a change while it is on its way sends again when it returns.
const form = document.getElementById("features");
let task = null, rowDirty = false, rowInFlight = false;

function buildForm(card) {
  task = card.task;
  for (const el of document.querySelectorAll(".image-only")) el.hidden = true;
  for (const el of document.querySelectorAll(".table-only")) el.hidden = false;
  document.getElementById("probabilities").hidden = task !== "classification";
  document.getElementById("title").textContent = `Predict '${card.target}'`;
  document.title = `nn serve: ${card.target}`;
  document.getElementById("target").textContent = card.target;
  card.columns.forEach((column, i) => {
    const label = document.createElement("label");
    label.textContent = column.name;
    label.htmlFor = "field-" + i;
    let field;
    if (column.kind === "numeric") {
      field = document.createElement("input");
      field.type = "number";
      field.step = "any";
      field.required = true;
      field.value = String(Number(column.mean.toPrecision(6)));
      field.title = `training mean ${column.mean}, deviation ${column.std}`;
    } else {
      field = document.createElement("select");
      for (const category of column.categories) {
        const option = document.createElement("option");
        option.value = option.textContent = category;
        field.appendChild(option);
      }
    }
    field.id = "field-" + i;
    field.name = column.name;
    field.dataset.kind = column.kind;
    field.dataset.default = field.value;
    field.addEventListener("change", predictRow);
    form.append(label, field);
  });
  document.getElementById("predict").addEventListener("click", predictRow);
  document.getElementById("reset").addEventListener("click", () => {
    for (const field of form.elements) field.value = field.dataset.default;
    predictRow();
  });
  form.addEventListener("submit", e => { e.preventDefault(); predictRow(); });
}

function showRowPending() {
  document.body.dataset.pending = String(rowDirty || rowInFlight ? 1 : 0);
}

// {"column": value}: numbers for numeric fields, category names for selects; null (and a message) if a number is missing
function readRow() {
  const features = {};
  for (const field of form.elements) {
    if (field.dataset.kind === "numeric") {
      const v = field.valueAsNumber;
      if (field.value === "" || !Number.isFinite(v)) {
        document.getElementById("table-status").textContent = `'${field.name}' needs a number`;
        return null;
      }
      features[field.name] = v;
    } else {
      features[field.name] = field.value;
    }
  }
  return features;
}

async function predictRow() {
  rowDirty = true;
  showRowPending();
  if (rowInFlight) return;
  rowDirty = false;
  const features = readRow();
  if (!features) { showRowPending(); return; }
  rowInFlight = true;
  showRowPending();
  const status = document.getElementById("table-status");
  try {
    const response = await fetch("api/predict", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ features }),
    });
    const body = await response.json();
    if (response.ok) {
      status.textContent = "";
      showRow(body);
    } else {
      status.textContent = body.detail || body.title || response.statusText;
    }
  } catch (err) {
    status.textContent = "no answer from the server: " + err;
  } finally {
    rowInFlight = false;
    showRowPending();
    document.body.dataset.answers = String(Number(document.body.dataset.answers || 0) + 1);
    if (rowDirty) predictRow();
  }
}

function showRow(answer) {
  const out = document.getElementById("table-prediction");
  if (task === "classification") {
    out.textContent = answer.label;
    showBars(answer.probabilities, answer.prediction);
  } else {
    out.textContent = String(Number(answer.prediction.toPrecision(6)));
  }
}

ctx.lineWidth = 20;
ctx.lineCap = "round";
ctx.lineJoin = "round";
ctx.strokeStyle = "#000";
ctx.fillStyle = "#000";
document.getElementById("clear").addEventListener("click", clearPad);
clearPad();
loadModel().catch(err => { document.getElementById("card-summary").textContent = "cannot load the model: " + err; });
