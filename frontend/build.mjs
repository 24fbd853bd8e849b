// Build the portal's U.S. Web Design System assets into ../static/uswds/.
//
// Run through `make assets` (npm ci, then this script). The output is
// committed, so running or testing the portal needs no npm. The same inputs
// (package-lock.json and src/) always give the same files.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const here = dirname(fileURLToPath(import.meta.url));
const uswds = join(here, "node_modules", "@uswds", "uswds");
const out = join(here, "..", "static", "uswds");
// Images the markup refers to directly (banner, icons); the images and fonts
// the CSS refers to are found in the compiled CSS below, so nothing unused ships.
const markupImages = ["us_flag_small.png", "icon-dot-gov.svg", "icon-https.svg", "sprite.svg"];

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "css"), { recursive: true });

const { css } = sass.compile(join(here, "src", "portal.scss"), {
  loadPaths: [join(uswds, "packages")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin", "color-functions"],
});
writeFileSync(join(out, "css", "portal.min.css"), css + "\n");

const referenced = (folder) =>
  new Set([...css.matchAll(new RegExp(`url\\(["']?\\.\\./${folder}/([^"')?#]+)`, "g"))].map((m) => m[1]));
const cssImages = referenced("img");
const fonts = referenced("fonts");
for (const image of [...markupImages, ...cssImages].sort()) {
  cpSync(join(uswds, "dist", "img", image), join(out, "img", image));
}
cpSync(join(uswds, "dist", "img", "favicons"), join(out, "img", "favicons"), { recursive: true });
for (const font of [...fonts].sort()) {
  cpSync(join(uswds, "dist", "fonts", font), join(out, "fonts", font));
}
// The scripts keep their source maps: the manifest storage follows each sourceMappingURL.
for (const script of ["uswds.min.js", "uswds-init.min.js"]) {
  cpSync(join(uswds, "dist", "js", script), join(out, "js", script));
  cpSync(join(uswds, "dist", "js", `${script}.map`), join(out, "js", `${script}.map`));
}
cpSync(join(uswds, "LICENSE.md"), join(out, "LICENSE.md"));

// The browser tests inject axe-core from the test tree, never from static/.
const axe = join(here, "..", "tests", "e2e", "vendor");
mkdirSync(axe, { recursive: true });
cpSync(join(here, "node_modules", "axe-core", "axe.min.js"), join(axe, "axe.min.js"));
cpSync(join(here, "node_modules", "axe-core", "LICENSE"), join(axe, "axe-core.LICENSE"));

const version = JSON.parse(readFileSync(join(uswds, "package.json"), "utf8")).version;
console.log(`USWDS ${version}: ${cssImages.size} CSS images, ${fonts.size} fonts -> static/uswds`);
