/**
 * A headless Chromium for the console's browser tests, with no system browser needed: `@sparticuz/chromium`
 * ships one inside its npm package (Linux x64), unpacked by `executablePath()`. Its `args` plus
 * `--disable-background-networking --no-first-run` keep it off the network. Where that binary cannot run,
 * the browser named by CONSOLE_TEST_CHROMIUM, else Debian's /usr/bin/chromium, is used instead.
 */
import * as fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

const QUIET_ARGS = ["--disable-background-networking", "--no-first-run"];
const SYSTEM_CHROMIUM = "/usr/bin/chromium";

export interface LaunchedBrowser {
  browser: Browser;
  /** Which binary runs: "@sparticuz/chromium" or the fallback's path. */
  source: string;
}

export async function launchBrowser(): Promise<LaunchedBrowser> {
  const failures: string[] = [];
  if (process.platform === "linux" && process.arch === "x64") {
    try {
      const packaged = (await import("@sparticuz/chromium")).default;
      const executablePath = await packaged.executablePath();
      const browser = await chromium.launch({ executablePath, args: [...packaged.args, ...QUIET_ARGS], headless: true });
      return { browser, source: "@sparticuz/chromium" };
    } catch (error) {
      failures.push(`@sparticuz/chromium: ${(error as Error).message.split("\n")[0]}`);
    }
  } else failures.push(`@sparticuz/chromium ships Linux x64 only (this is ${process.platform} ${process.arch})`);
  const fallback = process.env.CONSOLE_TEST_CHROMIUM ?? SYSTEM_CHROMIUM;
  if (!fs.existsSync(fallback)) {
    throw new Error(`No browser for the console tests: ${failures.join("; ")}; and ${fallback} does not exist (set CONSOLE_TEST_CHROMIUM)`);
  }
  const browser = await chromium.launch({ executablePath: fallback, args: ["--headless=new", ...QUIET_ARGS], headless: true });
  console.warn(`console tests: using ${fallback} (${failures.join("; ")})`);
  return { browser, source: fallback };
}
