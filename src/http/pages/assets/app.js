// beer-catalog pages: the little that needs a script. Everything else is plain HTML and works without it.
//  - the catalog's filter form leaves empty fields out of the URL, so shared links stay short;
//  - the editor sends the form to the API with the key the person typed (Authorization: Bearer), shows the API's
//    422 messages beside their fields, and uploads or removes the label image.
// The key is kept in sessionStorage (this tab only): never in a URL, a cookie or anything sent to the pages.
"use strict";

const KEY_STORAGE = "beer-catalog.api-key";
const FLASH_STORAGE = "beer-catalog.flash";
// Fields whose empty value means "unknown" (null) rather than an empty string.
const NULLABLE_TEXT = new Set(["style", "ingredients.yeast", "method.twist"]);
const NUMBER_SYNTAX = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const STORED_IMAGE = /\/images\/([0-9a-f]{64}\.(png|jpg|webp))$/;

function readKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

function writeKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled: the key then lives only in the input, for this page.
  }
}

function setFlash(message) {
  try { sessionStorage.setItem(FLASH_STORAGE, message); } catch { /* only a courtesy */ }
}

function takeFlash() {
  try {
    const message = sessionStorage.getItem(FLASH_STORAGE);
    sessionStorage.removeItem(FLASH_STORAGE);
    return message;
  } catch {
    return null;
  }
}

function headers(extra) {
  const result = Object.assign({ Accept: "application/json" }, extra);
  const key = document.getElementById("api-key").value.trim();
  if (key) result.Authorization = "Bearer " + key;
  return result;
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: response.statusText, detail: "" };
  }
}

// One sentence a person can act on, for an answer that is not a success.
function explain(response, problem) {
  const said = `The API answered ${response.status} ${problem.title || response.statusText}` +
    (problem.detail ? `: ${problem.detail}.` : ".");
  if (response.status === 401) {
    return "Saving needs an API key: enter a valid key in \u201cYour API key\u201d above and try again. " + said;
  }
  if (response.status === 403) return "This server does not accept changes. " + said;
  if (response.status === 503) return "The catalog is unavailable right now; try again in a few seconds. " + said;
  return said;
}

function showStatus(element, kind, parts) {
  element.replaceChildren();
  element.className = "notice " + kind;
  for (const part of parts) {
    const p = document.createElement("p");
    if (typeof part === "string") p.textContent = part;
    else p.append(part);
    element.append(p);
  }
}

function clearStatus(element) {
  element.replaceChildren();
  element.className = "";
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

// ---- catalog filters -------------------------------------------------------------------------------------------

function enhanceFilters(form) {
  form.addEventListener("submit", () => {
    for (const input of form.querySelectorAll("input, select")) {
      if (input.name && input.value.trim() === "") input.disabled = true;
    }
    // Re-enable after the navigation starts, so the back button finds the form as it was.
    setTimeout(() => form.querySelectorAll("input, select").forEach((i) => { i.disabled = false; }), 0);
  });
}

// ---- the beer form -----------------------------------------------------------------------------------------------

function setPath(target, path, value) {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key];
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}

function fieldFor(form, apiField) {
  // The API names fields by JSON path: "abv", "food_pairing[2]", "ingredients.yeast".
  let path = apiField.replace(/\[\d+\].*$/, "");
  while (path) {
    const field = form.querySelector(`.field[data-field="${CSS.escape(path)}"]`);
    if (field) return field;
    path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
  }
  return null;
}

function clearFieldErrors(form) {
  for (const field of form.querySelectorAll(".field[data-field]")) {
    field.classList.remove("invalid");
    field.querySelector(".field-error").textContent = "";
    field.querySelector("input, textarea").removeAttribute("aria-invalid");
  }
}

function markField(field, message) {
  field.classList.add("invalid");
  const error = field.querySelector(".field-error");
  error.textContent = error.textContent ? error.textContent + "; " + message : message;
  field.querySelector("input, textarea").setAttribute("aria-invalid", "true");
}

// The form's values as a partial beer, or the fields whose text is not a number.
function collect(form) {
  const beer = {};
  const invalid = [];
  for (const input of form.querySelectorAll("[data-kind]")) {
    const path = input.name;
    const text = input.value.trim();
    switch (input.dataset.kind) {
      case "number":
        if (text === "") setPath(beer, path, path === "abv" ? undefined : null);
        else if (NUMBER_SYNTAX.test(text)) setPath(beer, path, Number(text));
        else invalid.push([path, "must be a number, e.g. 5.6"]);
        break;
      case "lines":
        setPath(beer, path, input.value.split("\n").map((line) => line.trim()).filter(Boolean));
        break;
      default:
        setPath(beer, path, text === "" && NULLABLE_TEXT.has(path) ? null : text);
    }
  }
  return { beer, invalid };
}

function merge(base, changes) {
  for (const [key, value] of Object.entries(changes)) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      if (typeof base[key] !== "object" || base[key] === null) base[key] = {};
      merge(base[key], value);
    } else if (value === undefined) {
      delete base[key];
    } else {
      base[key] = value;
    }
  }
  return base;
}

function enhanceEditor(form) {
  const status = document.getElementById("form-status");
  const keyInput = document.getElementById("api-key");
  const beerId = form.dataset.beerId;
  keyInput.value = readKey();
  keyInput.addEventListener("input", () => writeKey(keyInput.value.trim()));
  document.getElementById("forget-key").addEventListener("click", () => {
    keyInput.value = "";
    writeKey("");
    showStatus(status, "ok", ["The key is forgotten: it is no longer kept in this tab."]);
  });
  const flash = takeFlash();
  if (flash) showStatus(status, "ok", [flash]);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    clearStatus(status);
    const { beer: changes, invalid } = collect(form);
    if (invalid.length) {
      for (const [path, message] of invalid) markField(fieldFor(form, path), message);
      showStatus(status, "error", ["Some fields need fixing; see the messages beside them."]);
      form.querySelector("[aria-invalid=true]").focus();
      return;
    }
    try {
      let body = changes;
      if (beerId) {
        // PUT replaces the whole beer: start from what is stored, so fields this form does not show (malts,
        // hops, mash steps...) are kept.
        const current = await fetch(`/beers/${beerId}`, { headers: { Accept: "application/json" } });
        if (!current.ok) {
          showStatus(status, "error", [explain(current, await problemOf(current))]);
          return;
        }
        const stored = await current.json();
        for (const key of ["id", "created_at", "updated_at"]) delete stored[key];
        // A stored label is the service's own (it answers its URL); a JSON write keeps it without being told.
        if (stored.image_url && STORED_IMAGE.test(stored.image_url)) delete stored.image_url;
        body = merge(stored, changes);
      }
      const response = await fetch(beerId ? `/beers/${beerId}` : "/beers", {
        method: beerId ? "PUT" : "POST",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify(body),
      });
      if (response.ok) {
        const saved = await response.json();
        if (beerId) {
          showStatus(status, "ok", ["Saved. ", link(`/catalog/${saved.id}`, `See ${saved.name} in the catalog`)]);
        } else {
          setFlash(`Added \u201c${saved.name}\u201d (beer ${saved.id}). You can now upload its label image below.`);
          window.location.assign(`/catalog/${saved.id}/edit`);
        }
        return;
      }
      const problem = await problemOf(response);
      const unplaced = [];
      for (const error of problem.errors || []) {
        const field = fieldFor(form, error.field);
        if (field) markField(field, error.message);
        else unplaced.push(`${error.field}: ${error.message}`);
      }
      const marked = form.querySelector("[aria-invalid=true]");
      if (response.status === 422 && marked) {
        showStatus(status, "error", ["The API did not accept the beer; see the messages beside the fields.", ...unplaced]);
        marked.focus();
      } else {
        showStatus(status, "error", [explain(response, problem), ...unplaced]);
        if (response.status === 401) keyInput.focus();
      }
    } catch (error) {
      showStatus(status, "error", [`Could not reach the server (${error.message}). Check the connection and try again.`]);
    }
  });
}

// ---- the label image ----------------------------------------------------------------------------------------------

function enhanceImage(box) {
  const beerId = box.dataset.beerId;
  const status = document.getElementById("image-status");
  const preview = document.getElementById("image-preview");
  const none = document.getElementById("no-image");
  const fileInput = document.getElementById("image-file");

  function show(imageUrl) {
    const stored = imageUrl ? STORED_IMAGE.exec(imageUrl) : null;
    if (stored) {
      preview.src = `/images/${stored[1]}`;
      preview.hidden = false;
      none.hidden = true;
    } else {
      preview.removeAttribute("src");
      preview.hidden = true;
      none.hidden = false;
    }
  }

  document.getElementById("image-upload").addEventListener("click", async () => {
    const file = fileInput.files[0];
    if (!file) {
      showStatus(status, "error", ["Choose an image file first."]);
      fileInput.focus();
      return;
    }
    showStatus(status, "", [`Uploading ${file.name}\u2026`]);
    try {
      const response = await fetch(`/beers/${beerId}/image`, {
        method: "PUT",
        headers: headers({ "Content-Type": file.type || "application/octet-stream" }),
        body: file,
      });
      if (!response.ok) {
        showStatus(status, "error", [explain(response, await problemOf(response))]);
        return;
      }
      const beer = await response.json();
      show(beer.image_url);
      showStatus(status, "ok", [`Label uploaded: ${file.name}.`]);
    } catch (error) {
      showStatus(status, "error", [`Could not reach the server (${error.message}).`]);
    }
  });

  document.getElementById("image-remove").addEventListener("click", async () => {
    try {
      const response = await fetch(`/beers/${beerId}/image`, { method: "DELETE", headers: headers({}) });
      if (!response.ok) {
        showStatus(status, "error", [explain(response, await problemOf(response))]);
        return;
      }
      show(null);
      showStatus(status, "ok", ["Label removed."]);
    } catch (error) {
      showStatus(status, "error", [`Could not reach the server (${error.message}).`]);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const filters = document.getElementById("filters");
  if (filters) enhanceFilters(filters);
  const editor = document.getElementById("beer-form");
  if (editor) enhanceEditor(editor);
  const image = document.getElementById("image-box");
  if (image) enhanceImage(image);
});
