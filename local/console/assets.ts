/**
 * The console's front end, bundled by esbuild from `web/` the first time a page is asked for and kept in
 * memory: no build step before `npm start`, nothing fetched at run time. Files are named by a hash of their
 * content, so a browser may cache them for good and picks up a new build by its new name.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";

export interface ConsoleAssets {
  /** Path → file, e.g. "/console/assets/app.3f2a9c1b7d4e.js". */
  files: Map<string, { contentType: string; body: Buffer }>;
  scriptPath: string;
  stylePath: string;
}

const ENTRY = path.join(__dirname, "web", "main.ts");

export async function bundleConsole(): Promise<ConsoleAssets> {
  // Loaded on the first page view, not at start: `npm start` (and every runtime a test starts) never pays for it otherwise.
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    minify: true,
    format: "iife",
    target: ["es2020"],
    outdir: "out",
    legalComments: "none",
    logLevel: "silent",
  });
  const files: ConsoleAssets["files"] = new Map();
  let scriptPath = "";
  let stylePath = "";
  for (const output of result.outputFiles) {
    const extension = path.extname(output.path);
    const hash = createHash("sha256").update(output.contents).digest("hex").slice(0, 12);
    const served = `/console/assets/app.${hash}${extension}`;
    files.set(served, {
      contentType: extension === ".css" ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
      body: Buffer.from(output.contents),
    });
    if (extension === ".js") scriptPath = served;
    if (extension === ".css") stylePath = served;
  }
  if (!scriptPath || !stylePath) throw new Error("the console bundle is missing its script or style sheet");
  return { files, scriptPath, stylePath };
}

/** The one HTML page: the front end routes by URL (`/`, `/console/state-machines/<arn>`, `/console/executions/<arn>`). */
export function consolePage(assets: ConsoleAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local Step Functions console</title>
<link rel="stylesheet" href="${assets.stylePath}">
<script src="${assets.scriptPath}" defer></script>
</head>
<body><div id="app"><p class="loading">Loading…</p></div></body>
</html>
`;
}
