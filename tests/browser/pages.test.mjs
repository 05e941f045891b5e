// The web pages in a real browser: Debian's headless Chromium driven by playwright-core, against a release server
// holding the Punk dataset (and its label images). Started by scripts/browser-test.sh, which sets:
//   BASE_URL        the server, e.g. http://127.0.0.1:38123
//   API_KEY         a key the server accepts for writes
//   LABEL_IMAGE     a PNG to upload
//   SCREENSHOT_DIR  where the catalog, beer and /docs screenshots go (docs/screenshots)
//   CHROMIUM        the browser binary (default /usr/bin/chromium)
// Every test also fails on a console error, an uncaught exception or a failed request it did not expect.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { chromium } from "playwright-core";

const BASE_URL = required("BASE_URL");
const API_KEY = required("API_KEY");
const LABEL_IMAGE = required("LABEL_IMAGE");
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || "";
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/browser-test.sh`);
  return value;
}

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
});

/// A fresh browser context (its own sessionStorage, like a new visitor) with a page whose every problem is
/// recorded: console errors, uncaught exceptions, failed requests and HTTP errors. `expectedStatuses` lists the
/// error answers the scenario provokes on purpose (a 422 for a bad field, a 401 without a key).
async function openPage({ viewport = DESKTOP, expectedStatuses = [], deviceScaleFactor = 1 } = {}) {
  const context = await browser.newContext({ viewport, baseURL: BASE_URL, deviceScaleFactor });
  const page = await context.newPage();
  const problems = [];
  const expected = (status) => expectedStatuses.includes(status);
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const status = /status of (\d{3})/.exec(message.text());
    if (status && expected(Number(status[1]))) return;
    problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught exception on ${page.url()}: ${error.message}`));
  page.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText;
    // A label or the page's icon still loading when the test navigates on or closes the page is cancelled by the
    // browser (ERR_ABORTED): not a failure. (Chromium fetches the icon as resource type "other".) A missing or
    // refused one is (an HTTP error below, or ERR_BLOCKED_BY_CSP, ERR_CONNECTION_REFUSED...).
    const isIcon = new URL(request.url()).pathname.startsWith("/assets/icon.");
    if (reason === "net::ERR_ABORTED" && (request.resourceType() === "image" || isIcon)) return;
    problems.push(`request failed: ${request.method()} ${request.url()} (${reason})`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400 && !expected(response.status())) {
      problems.push(`HTTP ${response.status()} for ${response.request().method()} ${response.url()}`);
    }
  });
  return {
    page,
    async close() {
      await context.close();
      assert.deepEqual(problems, [], "the page had problems");
    },
  };
}

async function api(pathAndQuery, init = {}) {
  const response = await fetch(new URL(pathAndQuery, BASE_URL), {
    ...init,
    headers: { Accept: "application/json", ...(init.headers || {}) },
  });
  return { status: response.status, headers: response.headers, body: await response.json().catch(() => null) };
}

/// Every beer the native API returns for a query, over all its pages.
async function apiIds(query) {
  const ids = [];
  for (let page = 1; ; page++) {
    const { status, body } = await api(`/beers?${query}${query ? "&" : ""}per_page=80&page=${page}`);
    assert.equal(status, 200);
    if (body.length === 0) return ids;
    ids.push(...body.map((beer) => beer.id));
  }
}

/// The beer ids a catalog page shows, in order.
async function shownIds(page) {
  return page.$$eval("#beers article h2 a", (links) =>
    links.map((a) => Number(new URL(a.href).pathname.split("/").pop())));
}

/// Every beer a catalog query shows, following the page's own "Next" links.
async function shownIdsOverPages(page) {
  const ids = await shownIds(page);
  while (await page.locator("a[rel=next]").count()) {
    await Promise.all([page.waitForURL(/page=/), page.locator("a[rel=next]").click()]);
    ids.push(...(await shownIds(page)));
  }
  return ids;
}

async function screenshot(page, name) {
  if (SCREENSHOT_DIR) await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage: false });
}

/// The page's own basic promises: every image has alt text and a size, every field a label, no horizontal
/// scrolling at this width, and the content security policy is there.
async function assertPageBasics(page, response) {
  assert.match(response.headers()["content-security-policy"] ?? "", /script-src 'self'/);
  const unlabelled = await page.$$eval("input:not([type=hidden]), textarea, select", (fields) =>
    fields.filter((f) => f.labels.length === 0 && !f.getAttribute("aria-label")).map((f) => f.outerHTML));
  assert.deepEqual(unlabelled, [], "fields without a label");
  const badImages = await page.$$eval("img", (images) =>
    images.filter((i) => !i.alt || !i.getAttribute("width") || !i.getAttribute("height")).map((i) => i.outerHTML));
  assert.deepEqual(badImages, [], "images without alt text or size");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
}

describe("the catalog", () => {
  test("browse and paginate with real links (back button included)", async () => {
    const { page, close } = await openPage();
    const response = await page.goto("/");
    assert.equal(response.status(), 200);
    await assertPageBasics(page, response);
    const total = (await api("/beers?per_page=1")).headers.get("x-total-count");
    await assert.doesNotReject(page.getByText(`${total} beers, page 1 of ${Math.ceil(total / 25)}`).waitFor());
    const first = await shownIds(page);
    assert.deepEqual(first, (await apiIds("")).slice(0, 25));
    await screenshot(page, "catalog.png");

    await Promise.all([page.waitForURL(/[?&]page=2/), page.locator("a[rel=next]").click()]);
    const second = await shownIds(page);
    assert.deepEqual(second, (await apiIds("")).slice(25, 50));
    const last = Math.ceil(total / 25);
    await Promise.all([
      page.waitForURL(new RegExp(`[?&]page=${last}`)),
      page.getByRole("link", { name: `Page ${last}`, exact: true }).click(),
    ]);
    assert.equal(await page.locator(".pagination [aria-current=page]").textContent(), String(last));
    assert.deepEqual(await shownIds(page), (await apiIds("")).slice((last - 1) * 25));
    await page.goBack();
    assert.deepEqual(await shownIds(page), second);
    await close();
  });

  test("a search for punk shows the beers the API returns, with the search in the URL", async () => {
    const { page, close } = await openPage();
    await page.goto("/");
    await page.getByLabel("Name", { exact: true }).fill("punk");
    await Promise.all([page.waitForURL(/beer_name=punk/), page.getByLabel("Name", { exact: true }).press("Enter")]);
    const url = new URL(page.url());
    assert.deepEqual([...url.searchParams.keys()], ["beer_name"], "empty filters are left out of the URL");
    const expected = await apiIds("beer_name=punk");
    assert.ok(expected.length > 1, "the dataset has several punk beers");
    assert.deepEqual(await shownIdsOverPages(page), expected);
    await close();
  });

  test("two filters combined give a URL that shows the same beers to whoever opens it", async () => {
    const { page, close } = await openPage();
    await page.goto("/");
    await page.getByText("Filters and order", { exact: true }).click();
    await page.getByLabel("ABV above (%)").fill("10");
    await page.getByLabel("Hops").fill("simcoe");
    await Promise.all([page.waitForURL(/hops=simcoe/), page.getByRole("button", { name: "Apply filters" }).click()]);
    const shared = page.url();
    const ids = await shownIds(page);
    const expected = await apiIds("abv_gt=10&hops=simcoe");
    assert.ok(expected.length > 0 && expected.length <= 25, `${expected.length} beers`);
    assert.deepEqual(ids, expected);

    const other = await openPage({ viewport: PHONE });
    const response = await other.page.goto(shared);
    await assertPageBasics(other.page, response);
    assert.deepEqual(await shownIds(other.page), expected);
    assert.equal(await other.page.getByLabel("Hops").inputValue(), "simcoe");
    await other.close();
    await close();
  });

  test("an order and an API-only filter chosen in the form page like the API", async () => {
    const { page, close } = await openPage();
    await page.goto("/");
    await page.getByText("Filters and order", { exact: true }).click();
    await page.getByLabel("pH below").fill("5");
    await page.getByLabel("Order").selectOption({ label: "Strongest first" });
    await Promise.all([page.waitForURL(/sort=abv%3Adesc/), page.getByRole("button", { name: "Apply filters" }).click()]);
    const url = new URL(page.url());
    assert.deepEqual([...url.searchParams.keys()].sort(), ["ph_lt", "sort"], "empty filters are left out of the URL");
    const expected = await apiIds("ph_lt=5&sort=abv:desc");
    assert.ok(expected.length > 25, `${expected.length} beers: more than a page`);
    assert.deepEqual(await shownIdsOverPages(page), expected);
    await close();
  });

  test("a bad filter is explained beside its field", async () => {
    const { page, close } = await openPage({ expectedStatuses: [400] });
    const response = await page.goto("/?abv_gt=strong");
    assert.equal(response.status(), 400);
    await assert.doesNotReject(page.locator("#f-abv_gt-error", { hasText: "must be a number" }).waitFor());
    assert.equal(await page.getByLabel("ABV above (%)").getAttribute("aria-invalid"), "true");
    await close();
  });

  test("no layout shift while the labels load", async () => {
    const { page, close } = await openPage();
    await page.goto("/?beer_name=punk", { waitUntil: "load" });
    const shift = await page.evaluate(() => new Promise((resolve) => {
      let total = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
      }).observe({ type: "layout-shift", buffered: true });
      setTimeout(() => resolve(total), 500);
    }));
    assert.ok(shift < 0.01, `cumulative layout shift ${shift}`);
    await close();
  });
});

describe("label renditions", () => {
  // A label is drawn 64 CSS pixels wide in the catalog: a phone gets a WebP rendition of about that (at most the
  // 128-pixel one, ~20 KB), never the ~300 KB original PNG that `image_url` names.
  const ORIGINAL = /\/images\/[0-9a-f]{64}\.(png|jpg|webp)$/;
  const RENDITION = /\/images\/[0-9a-f]{64}\/(64|128|256)\.webp$/;

  test("the catalog on a 3x phone: srcset on every label, only renditions fetched, never an original", async () => {
    const { page, close } = await openPage({ viewport: PHONE, deviceScaleFactor: 3 });
    const fetched = [];
    page.on("request", (request) => {
      if (request.resourceType() === "image") fetched.push(new URL(request.url()).pathname);
    });
    await page.goto("/", { waitUntil: "load" });
    // Every lazy label scrolled into view, so each is fetched.
    for (let y = 0; y < (await page.evaluate(() => document.body.scrollHeight)); y += 600) {
      await page.evaluate((top) => window.scrollTo(0, top), y);
      await page.waitForTimeout(50);
    }
    await page.waitForLoadState("networkidle");
    const labels = await page.$$eval("img.label", (images) =>
      images.map((img) => ({ srcset: img.getAttribute("srcset") ?? "", sizes: img.getAttribute("sizes"),
        src: img.currentSrc, width: img.naturalWidth })));
    assert.ok(labels.length >= 20, `labels on page 1: ${labels.length}`);
    for (const label of labels) {
      assert.match(label.srcset, /\/64\.webp 64w, .*\/128\.webp 128w$/, "srcset of 64 and 128 pixels");
      assert.equal(label.sizes, "64px");
      assert.match(new URL(label.src).pathname, /\/128\.webp$/, "a 3x phone takes the 2x rendition");
      // With `w` descriptors the natural width is the drawn one (the picture's pixels over its density).
      assert.equal(label.width, 64, "decoded, drawn 64 CSS pixels wide");
    }
    const originals = fetched.filter((p) => ORIGINAL.test(p));
    assert.deepEqual(originals, [], "no original label fetched");
    // Labels shared by several beers (the Punk dataset's keg.png) are fetched once.
    const shown = new Set(labels.map((label) => new URL(label.src).pathname));
    const renditions = new Set(fetched.filter((p) => RENDITION.test(p)));
    assert.deepEqual([...renditions].sort(), [...shown].sort(), "each label's rendition fetched, nothing else");
    await close();
  });

  test("a beer's page: the 256-pixel rendition on a 2x screen", async () => {
    const { page, close } = await openPage({ viewport: PHONE, deviceScaleFactor: 2 });
    await page.goto("/catalog/106", { waitUntil: "load" });
    const label = page.getByRole("img", { name: "Label of Punk IPA 2010 - Current" });
    const { src, width } = await label.evaluate(async (img) => {
      await img.decode();
      return { src: img.currentSrc, width: img.naturalWidth };
    });
    assert.match(new URL(src).pathname, /\/256\.webp$/);
    assert.equal(width, 135, "decoded, drawn 135 CSS pixels wide");
    await close();
  });
});

describe("a beer", () => {
  test("opened from the catalog: the whole recipe and its label image, decoded", async () => {
    const { page, close } = await openPage();
    await page.goto("/?beer_name=punk_ipa_2010");
    await Promise.all([page.waitForURL(/\/catalog\/106$/), page.getByRole("link", { name: "Punk IPA 2010 - Current" }).click()]);
    const response = await page.reload();
    await assertPageBasics(page, response);
    for (const heading of ["Description", "Food pairing", "Ingredients", "Method", "Brewer\u2019s tips"]) {
      await assert.doesNotReject(page.getByRole("heading", { name: heading }).waitFor(), heading);
    }
    await assert.doesNotReject(page.getByRole("table", { name: "Mash" }).waitFor());
    await assert.doesNotReject(page.getByRole("table", { name: "Hops" }).waitFor());
    const image = page.getByRole("img", { name: "Label of Punk IPA 2010 - Current" });
    await image.waitFor();
    const decoded = await image.evaluate(async (img) => {
      await img.decode();
      return img.naturalWidth;
    });
    assert.ok(decoded > 0, "the label image decoded");
    await screenshot(page, "beer.png");
    await close();
  });

  test("an unknown beer is a 404 page, not JSON", async () => {
    const { page, close } = await openPage({ expectedStatuses: [404] });
    for (const url of ["/catalog/999999", "/beers/999999", "/no/such/page"]) {
      const response = await page.goto(url);
      assert.equal(response.status(), 404, url);
      assert.match(response.headers()["content-type"], /text\/html/, url);
      await assert.doesNotReject(page.getByRole("heading", { name: "404 Not Found" }).waitFor(), url);
    }
    await close();
  });
});

describe("the API reference", () => {
  test("/docs lists every operation of /openapi.json, each with an example", async () => {
    const { body: document } = await api("/openapi.json");
    const operations = [];
    for (const [apiPath, item] of Object.entries(document.paths)) {
      for (const method of ["get", "put", "post", "delete", "patch", "head", "options", "trace"]) {
        if (item[method]) operations.push(`${method.toUpperCase()} ${apiPath}`);
      }
    }
    assert.ok(operations.length >= 12, operations.join(", "));
    const { page, close } = await openPage();
    const response = await page.goto("/docs");
    await assertPageBasics(page, response);
    const shown = await page.$$eval("section.operation", (sections) =>
      sections.map((s) => ({
        operation: `${s.dataset.method} ${s.dataset.path}`,
        example: s.querySelector("pre.example")?.textContent ?? "",
      })));
    assert.deepEqual(shown.map((s) => s.operation).sort(), operations.sort());
    for (const { operation, example } of shown) assert.match(example, /^curl /, operation);
    assert.ok(shown.some((s) => s.operation.startsWith("GET /v2/")), "the Punk API v2 is documented");
    await screenshot(page, "docs.png");
    await close();
  });
});

describe("editing", () => {
  test("with a key: a bad field is explained beside it, fixed, a label uploaded, the beer found", async () => {
    const name = `Browser Brew ${Date.now()}`;
    const { page, close } = await openPage({ expectedStatuses: [422] });
    const response = await page.goto("/catalog/new");
    await assertPageBasics(page, response);
    await page.getByLabel("Your API key").fill(API_KEY);
    await page.getByLabel("Name (required)").fill(name);
    await page.getByLabel("ABV (%) (required)").fill("120");
    await page.getByLabel("Food pairing").fill("Salted pretzels\nSharp cheddar");
    await page.getByRole("button", { name: "Add the beer" }).click();
    const abvError = page.locator('.field[data-field="abv"] .field-error');
    await assert.doesNotReject(abvError.filter({ hasText: "must be between 0 and 100 (got 120)" }).waitFor());
    assert.equal(await page.getByLabel("ABV (%) (required)").getAttribute("aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement.id), "beer-abv", "focus moves to the bad field");

    await page.getByLabel("ABV (%) (required)").fill("6.5");
    await Promise.all([page.waitForURL(/\/catalog\/\d+\/edit$/), page.getByRole("button", { name: "Add the beer" }).click()]);
    const id = Number(page.url().split("/").at(-2));
    await assert.doesNotReject(page.locator("#form-status", { hasText: `Added \u201c${name}\u201d` }).waitFor());
    assert.equal(await page.getByLabel("Your API key").inputValue(), API_KEY, "the key stays for this tab");
    assert.ok(!page.url().includes(API_KEY), "the key is not in the URL");
    const cookies = await page.context().cookies();
    assert.deepEqual(cookies, [], "no cookie is set");

    await page.getByLabel("Upload a label (PNG, JPEG or WebP)").setInputFiles(LABEL_IMAGE);
    await page.getByRole("button", { name: "Upload image" }).click();
    await assert.doesNotReject(page.locator("#image-status", { hasText: "Label uploaded" }).waitFor());
    const preview = await page.locator("#image-preview").evaluate(async (img) => {
      await img.decode();
      return img.naturalWidth;
    });
    assert.ok(preview > 0, "the uploaded label shows");

    const stored = (await api(`/beers/${id}`)).body;
    assert.equal(stored.name, name);
    assert.equal(stored.abv, 6.5);
    assert.deepEqual(stored.food_pairing, ["Salted pretzels", "Sharp cheddar"]);
    assert.match(stored.image_url, /\/images\/[0-9a-f]{64}\.png$/);

    await page.goto("/");
    await page.getByLabel("Name", { exact: true }).fill(name);
    await Promise.all([page.waitForURL(/beer_name=/), page.getByLabel("Name", { exact: true }).press("Enter")]);
    assert.deepEqual(await shownIds(page), [id]);
    const label = page.getByRole("img", { name: `Label of ${name}` });
    assert.ok(await label.evaluate(async (img) => { await img.decode(); return img.naturalWidth; }) > 0);

    // Editing keeps what the form does not show (the malts, hops and mash steps of a Punk recipe).
    await page.goto("/catalog/106/edit");
    const before = (await api("/beers/106")).body;
    await page.getByLabel("Tagline").fill(`${before.tagline} (checked by the browser tests)`);
    await page.getByRole("button", { name: "Save changes" }).click();
    await assert.doesNotReject(page.locator("#form-status", { hasText: "Saved." }).waitFor());
    const afterEdit = (await api("/beers/106")).body;
    assert.equal(afterEdit.tagline, `${before.tagline} (checked by the browser tests)`);
    assert.deepEqual(afterEdit.ingredients, before.ingredients);
    assert.deepEqual(afterEdit.method, before.method);
    await close();
  });

  test("without a key: refused with a clear message, the API's 401 shown, nothing changed", async () => {
    const before = (await api("/beers/1")).body;
    const { page, close } = await openPage({ expectedStatuses: [401] });
    await page.goto("/catalog/1/edit");
    assert.equal(await page.getByLabel("Your API key").inputValue(), "", "a new visitor has no key");
    await page.getByLabel("Tagline").fill("Changed without a key");
    await page.getByRole("button", { name: "Save changes" }).click();
    const status = page.locator("#form-status");
    await assert.doesNotReject(status.filter({ hasText: "Saving needs an API key" }).waitFor());
    assert.match(await status.textContent(), /401 Unauthorized: a valid API key is required/);
    assert.equal(await page.evaluate(() => document.activeElement.id), "api-key", "focus goes to the key field");
    assert.equal((await api("/beers/1")).body.tagline, before.tagline);
    await close();
  });
});

describe("keyboard and every page", () => {
  test("tab through the catalog without a mouse: skip link first, focus always visible, a beer opened", async () => {
    const { page, close } = await openPage();
    await page.goto("/");
    await page.keyboard.press("Tab");
    const skip = await page.evaluate(() => ({
      text: document.activeElement.textContent,
      visible: document.activeElement.getBoundingClientRect().left >= 0,
    }));
    assert.deepEqual(skip, { text: "Skip to content", visible: true });
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement.id), "main");

    const firstBeer = await page.locator("#beers article h2 a").first().getAttribute("href");
    for (let presses = 0; presses < 40; presses++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const element = document.activeElement;
        const style = getComputedStyle(element);
        return {
          tag: element.tagName,
          href: element.getAttribute("href"),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
        };
      });
      assert.ok(focused.outline, `no visible focus on ${JSON.stringify(focused)}`);
      if (focused.href === firstBeer) {
        await Promise.all([page.waitForURL(new RegExp(`${firstBeer}$`)), page.keyboard.press("Enter")]);
        await close();
        return;
      }
    }
    assert.fail("the first beer could not be reached with Tab");
  });

  test("no console error or failed request on any page, on a phone and a desktop", async () => {
    for (const viewport of [PHONE, DESKTOP]) {
      const { page, close } = await openPage({ viewport });
      for (const url of ["/", "/?page=3", "/?beer_name=punk&abv_gt=5", "/catalog/1", "/catalog/106",
        "/catalog/new", "/catalog/2/edit", "/docs"]) {
        const response = await page.goto(url, { waitUntil: "networkidle" });
        assert.equal(response.status(), 200, url);
        await assertPageBasics(page, response);
      }
      await close();
    }
  });
});
