// The README's screenshots, taken in headless Chromium from the built-in sample catalog (the project's own data:
// the Punk recipes and labels may not be copied into the repository, screenshots included).
//
//   node tests/browser/screenshots.mjs BASE_URL OUT_DIR       (scripts/screenshots.sh runs it)
import path from "node:path";
import { chromium } from "playwright-core";

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) throw new Error("usage: screenshots.mjs BASE_URL OUT_DIR");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  for (const [name, url] of [["catalog.png", "/"], ["beer.png", "/catalog/1"], ["docs.png", "/docs"]]) {
    const response = await page.goto(base + url, { waitUntil: "networkidle" });
    if (!response.ok()) throw new Error(`${url}: ${response.status()}`);
    await page.screenshot({ path: path.join(outDir, name) });
    console.log(`screenshots: ${name} <- ${url}`);
  }
} finally {
  await browser.close();
}
