'use strict';

// Objects shaped like Playwright's reporter API (Suite, TestCase, TestResult), enough for the
// reporter: built by hand so these tests need no Playwright install.

const ROOT = '/work/project/tests';

let nextId = 0;

function result(overrides = {}) {
  return {
    retry: 0,
    workerIndex: 0,
    parallelIndex: 0,
    status: 'passed',
    duration: 12,
    startTime: new Date('2025-01-02T03:04:05.000Z'),
    error: undefined,
    errors: [],
    stdout: [],
    stderr: [],
    steps: [],
    attachments: [],
    annotations: [],
    ...overrides,
  };
}

function outcomeOf(test) {
  const statuses = test.results.map((r) => r.status);
  if (!statuses.length || statuses.every((s) => s === 'skipped')) return 'skipped';
  const last = statuses[statuses.length - 1];
  if (last !== test.expectedStatus) return 'unexpected';
  return statuses.some((s) => s !== test.expectedStatus) ? 'flaky' : 'expected';
}

function testCase(title, { line = 1, results = [result()], tags = [], annotations = [], expectedStatus = 'passed', file = 'a.spec.js' } = {}) {
  nextId += 1;
  const test = {
    type: 'test',
    id: `t${nextId}`,
    title,
    location: { file: `${ROOT}/${file}`, line, column: 5 },
    tags,
    annotations,
    expectedStatus,
    timeout: 30000,
    results,
  };
  test.outcome = () => outcomeOf(test);
  test.ok = () => ['expected', 'flaky', 'skipped'].includes(test.outcome());
  return test;
}

function suite(type, title, children, { file = 'a.spec.js', line = 0 } = {}) {
  const entries = children;
  return {
    type,
    title,
    location: type === 'project' ? undefined : { file: `${ROOT}/${file}`, line, column: 3 },
    suites: entries.filter((e) => e.type !== 'test'),
    tests: entries.filter((e) => e.type === 'test'),
    entries: () => entries,
  };
}

function project(name, files) {
  const s = suite('project', name, files);
  s.project = () => ({ name });
  return s;
}

function root(projects) {
  const r = suite('root', '', projects);
  r.allTests = () => {
    const out = [];
    const walk = (x) => x.entries().forEach((e) => (e.type === 'test' ? out.push(e) : walk(e)));
    walk(r);
    return out;
  };
  return r;
}

function config(overrides = {}) {
  return {
    rootDir: ROOT,
    configFile: '/work/project/playwright.config.js',
    version: '1.65.1',
    workers: 2,
    metadata: { gitDiff: 'x'.repeat(1000), team: 'shop' },
    reporter: [['@playdeck/playwright-reporter', { apiKey: 'pd_secret' }]],
    webServer: { command: 'serve', env: { TOKEN: 'secret' } },
    projects: [
      { name: 'desktop', outputDir: '/work/project/test-results', retries: 1, repeatEach: 1, testDir: ROOT, timeout: 30000 },
    ],
    ...overrides,
  };
}

module.exports = { ROOT, config, project, result, root, suite, testCase };
