// The suite tests/clients/test_playwright_reporter.py runs against a real Playdeck server.
// The reporter reads PLAYDECK_SERVER_URL, PLAYDECK_PROJECT, PLAYDECK_API_KEY, PLAYDECK_USERNAME
// and PLAYDECK_PASSWORD itself; the PLAYDECK_E2E_* variables below are this suite's knobs.
// @ts-check
const path = require('path');
const { defineConfig } = require('@playwright/test');

const env = process.env;

module.exports = defineConfig({
  testDir: './tests',
  // tests/clients/test_playwright_reporter.py's quarantine test runs this file alone.
  testIgnore: env.PLAYDECK_E2E_QUARANTINE === '1' ? [] : ['**/quarantine.spec.js'],
  outputDir: env.PLAYDECK_E2E_OUTPUT_DIR || path.join(__dirname, 'test-results'),
  fullyParallel: false,
  workers: 2, // one per project: the two projects run side by side
  retries: 1,
  timeout: 15000,
  expect: { timeout: 1000 },
  reporter: [
    ['list'],
    [
      require.resolve('../../../clients/playwright-reporter'),
      {
        environment: 'e2e',
        tags: ['nightly', 'reporter-e2e'],
        runName: env.PLAYDECK_E2E_RUN_NAME,
        uploadAttachments: env.PLAYDECK_E2E_UPLOAD_ATTACHMENTS || 'failures',
        strict: env.PLAYDECK_E2E_STRICT === '1',
        timeoutMs: 30000,
      },
    ],
  ],
  use: {
    headless: true,
    screenshot: 'only-on-failure',
    // Small traces: DOM snapshots only, no screencast frames, no sources.
    trace: { mode: 'retain-on-failure', screenshots: false, snapshots: true, sources: false },
    video: 'off',
    launchOptions: {
      executablePath: env.PLAYDECK_CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [
    { name: 'desktop', use: { browserName: 'chromium', viewport: { width: 1280, height: 720 } } },
    {
      name: 'mobile',
      use: { browserName: 'chromium', viewport: { width: 390, height: 664 }, isMobile: true, hasTouch: true },
    },
  ],
});
