// Browser tests of the console against the local stack (infra/local/test.sh starts it and sets
// TICKETING_API_URL and the admin's credentials). Debian's Chromium through executablePath: nothing here
// downloads a browser. Playwright gives every launch a fresh, empty profile directory of its own.
import { defineConfig } from "@playwright/test";

const api = process.env.TICKETING_API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  testDir: "tests",
  outputDir: "test-results/artifacts",
  timeout: 120_000,
  expect: { timeout: 20_000 },
  workers: Number(process.env.CONSOLE_TEST_WORKERS ?? 2),
  fullyParallel: false,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "test-results/results.json" }]],
  // The outage test takes the card provider down for the whole stack: it runs after every other file.
  projects: [
    { name: "console", testIgnore: /outage\.spec\.ts/ },
    { name: "outage", testMatch: /outage\.spec\.ts/, dependencies: ["console"] },
  ],
  use: {
    baseURL: `${api}/console/`,
    headless: true,
    viewport: { width: 1280, height: 900 },
    locale: "en-US",
    timezoneId: "Asia/Seoul",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
