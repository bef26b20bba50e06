'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const { AttachmentCollector, LIMITS, boundedOutput, writeReport } = require('../lib/report');
const { config, project, result, root, suite, testCase } = require('./fakes');

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'playdeck-reporter-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function build(t, rootSuite, { policy = 'failures', errors = [], cfg = config() } = {}) {
  const dir = tempDir(t);
  const attachments = new AttachmentCollector(policy, path.join(dir, 'parts'));
  const file = path.join(dir, 'report.json');
  const fullResult = { status: 'failed', startTime: new Date('2025-01-02T03:00:00.000Z'), duration: 4321 };
  writeReport(file, { config: cfg, rootSuite, fullResult, errors, attachments });
  return { report: JSON.parse(fs.readFileSync(file, 'utf8')), attachments, dir };
}

function twoProjectRun() {
  const files = (projectName) => [
    suite('file', 'a.spec.js', [
      suite('describe', 'checkout', [
        suite('describe', 'cart', [
          testCase('shows the total', { line: 10, tags: ['@smoke', '@cart'], annotations: [{ type: 'issue', description: 'https://x/7' }] }),
        ], { line: 9 }),
        testCase('recovers on retry', {
          line: 20,
          results: [
            result({ status: 'failed', error: { message: 'boom', stack: 'Error: boom\n    at a.spec.js:21:3', location: { file: '/work/project/tests/a.spec.js', line: 21, column: 3 } }, errors: [{ message: 'boom' }] }),
            result({ retry: 1, status: 'passed', stdout: [`hello from ${projectName}\n`] }),
          ],
        }),
      ], { line: 8 }),
    ]),
  ];
  return root([project('desktop', files('desktop')), project('mobile', files('mobile'))]);
}

test('specs run by several projects are merged, one test per project, as the JSON reporter does', (t) => {
  const { report } = build(t, twoProjectRun());
  assert.equal(report.suites.length, 1);
  const fileSuite = report.suites[0];
  assert.deepEqual([fileSuite.title, fileSuite.file, fileSuite.line], ['a.spec.js', 'a.spec.js', 0]);
  const checkout = fileSuite.suites[0];
  assert.equal(checkout.title, 'checkout');
  assert.equal(checkout.suites[0].title, 'cart');
  const spec = checkout.suites[0].specs[0];
  assert.equal(spec.title, 'shows the total');
  assert.deepEqual(spec.tags, ['smoke', 'cart']);
  assert.deepEqual([spec.file, spec.line, spec.column], ['a.spec.js', 10, 5]);
  assert.deepEqual(spec.tests.map((x) => x.projectName), ['desktop', 'mobile']);
  assert.deepEqual(spec.tests[0].annotations, [{ type: 'issue', description: 'https://x/7' }]);
  assert.equal(spec.tests[0].status, 'expected');
});

test('every attempt is kept with its error, stack, location, output and ISO start time', (t) => {
  const { report } = build(t, twoProjectRun());
  const flaky = report.suites[0].suites[0].specs[0].tests[0];
  assert.equal(flaky.status, 'flaky');
  assert.equal(flaky.expectedStatus, 'passed');
  assert.deepEqual(flaky.results.map((r) => [r.retry, r.status]), [[0, 'failed'], [1, 'passed']]);
  const [first, second] = flaky.results;
  assert.equal(first.error.message, 'boom');
  assert.match(first.error.stack, /a\.spec\.js:21:3/);
  assert.deepEqual(first.error.location, { file: '/work/project/tests/a.spec.js', line: 21, column: 3 });
  assert.deepEqual(first.errorLocation, first.error.location);
  assert.deepEqual(first.errors, [{ message: 'boom' }]);
  assert.equal(first.startTime, '2025-01-02T03:04:05.000Z');
  assert.deepEqual(second.stdout, [{ text: 'hello from desktop\n' }]);
  assert.equal(second.error, undefined);
});

test('stats count outcomes and config keeps no reporter options, web server or git diff', (t) => {
  const { report } = build(t, twoProjectRun(), { errors: [{ message: 'global setup failed', stack: 'at setup.js:1' }] });
  assert.deepEqual(report.stats, {
    startTime: '2025-01-02T03:00:00.000Z',
    duration: 4321,
    expected: 2,
    unexpected: 0,
    flaky: 2,
    skipped: 0,
  });
  assert.equal(report.config.version, '1.65.1');
  assert.deepEqual(report.config.metadata, { team: 'shop' });
  assert.equal(report.config.projects[0].outputDir, '/work/project/test-results');
  const serialized = JSON.stringify(report.config);
  assert.ok(!serialized.includes('pd_secret'));
  assert.ok(!serialized.includes('TOKEN'));
  assert.deepEqual(report.errors, [{ message: 'global setup failed', stack: 'at setup.js:1' }]);
});

test('output is bounded per attempt and says how much was left out', () => {
  const chunk = 'x'.repeat(40 * 1024);
  const out = boundedOutput([chunk, chunk, Buffer.from('tail')]);
  const kept = out.slice(0, -1).reduce((n, c) => n + Buffer.byteLength(c.text), 0);
  assert.equal(kept, LIMITS.outputBytes);
  assert.match(out.at(-1).text, new RegExp(`${2 * 40 * 1024 + 4 - LIMITS.outputBytes} more bytes`));
  assert.deepEqual(boundedOutput(['a', Buffer.from('b')]), [{ text: 'a' }, { text: 'b' }]);
});

test('a multi-byte character is never cut in half', () => {
  const out = boundedOutput(['é'.repeat(LIMITS.outputBytes)]);
  assert.ok(!out[0].text.includes('\uFFFD'));
  assert.ok(Buffer.byteLength(out[0].text) <= LIMITS.outputBytes);
});

test('long error messages are cut to the server limit with a note', (t) => {
  const long = 'e'.repeat(LIMITS.errorChars * 2);
  const rootSuite = root([project('p', [suite('file', 'a.spec.js', [
    testCase('fails', { results: [result({ status: 'failed', error: { message: long, stack: long } })] }),
  ])])]);
  const { report } = build(t, rootSuite);
  const error = report.suites[0].specs[0].tests[0].results[0].error;
  assert.equal(error.message.length, LIMITS.errorChars);
  assert.ok(error.message.endsWith('[cut by the Playdeck reporter]'));
  assert.ok(error.stack.startsWith('eee'));
});

test('steps keep user steps, assertions and API calls; hooks only when they failed; bounded', (t) => {
  const many = Array.from({ length: 300 }, (_, i) => ({ title: `step ${i}`, category: 'test.step', duration: 1, steps: [] }));
  const deep = (depth) => ({ title: `level ${depth}`, category: 'test.step', duration: 1, steps: depth < 10 ? [deep(depth + 1)] : [] });
  const steps = [
    { title: 'Before Hooks', category: 'hook', duration: 5, steps: [{ title: 'fixture: page', category: 'fixture', duration: 4, steps: [] }] },
    { title: 'After Hooks', category: 'hook', duration: 5, error: { message: 'teardown broke' }, steps: [] },
    { title: 'Navigate', category: 'pw:api', duration: 3, startTime: new Date('2025-01-02T03:04:06.000Z'), steps: [] },
    { title: 'attach "x"', category: 'attach', duration: 0, steps: [] },
    deep(0),
    ...many,
  ];
  const rootSuite = root([project('p', [suite('file', 'a.spec.js', [testCase('t', { results: [result({ steps })] })])])]);
  const { report } = build(t, rootSuite);
  const sent = report.suites[0].specs[0].tests[0].results[0].steps;
  assert.deepEqual(sent[0], { title: 'After Hooks', category: 'hook', duration: 5, error: { message: 'teardown broke' } });
  assert.deepEqual(sent[1], { title: 'Navigate', category: 'pw:api', duration: 3, startTime: '2025-01-02T03:04:06.000Z' });
  let depth = 0;
  for (let s = sent[2]; s; s = s.steps && s.steps[0]) depth += 1;
  assert.equal(depth, LIMITS.stepDepth);
  const count = (list) => list.reduce((n, s) => n + 1 + count(s.steps || []), 0);
  assert.equal(count(sent), LIMITS.steps);
});

function attachmentRun(dir) {
  fs.writeFileSync(path.join(dir, 'test-failed-1.png'), 'png-bytes');
  fs.writeFileSync(path.join(dir, 'trace.zip'), 'zip-bytes');
  fs.writeFileSync(path.join(dir, 'passed.txt'), 'passed');
  return root([project('p', [suite('file', 'a.spec.js', [
    testCase('flaky', {
      results: [
        result({
          status: 'failed',
          attachments: [
            { name: 'screenshot', contentType: 'image/png', path: path.join(dir, 'test-failed-1.png') },
            { name: 'trace', contentType: 'application/zip', path: path.join(dir, 'trace.zip') },
            { name: 'gone', contentType: 'text/plain', path: path.join(dir, 'deleted.txt') },
            { name: 'note', contentType: 'text/plain', body: Buffer.from('small note') },
            { name: 'big', contentType: 'application/octet-stream', body: Buffer.alloc(LIMITS.inlineBodyBytes + 1, 7) },
          ],
        }),
        result({ retry: 1, attachments: [{ name: 'log', contentType: 'text/plain', path: path.join(dir, 'passed.txt') }] }),
      ],
    }),
    testCase('expected failure', {
      expectedStatus: 'failed',
      results: [result({ status: 'failed', attachments: [{ name: 'screenshot', contentType: 'image/png', path: path.join(dir, 'test-failed-1.png') }] })],
    }),
  ])])]);
}

test('policy "failures" sends the attachments of failed attempts only, named by the report path', (t) => {
  const dir = tempDir(t);
  const { report, attachments } = build(t, attachmentRun(dir));
  const [flaky, expectedFailure] = report.suites[0].specs;
  const [failed, passed] = flaky.tests[0].results;
  assert.deepEqual(failed.attachments.slice(0, 2), [
    { name: 'screenshot', contentType: 'image/png', path: 'attachments/1-test-failed-1.png' },
    { name: 'trace', contentType: 'application/zip', path: 'attachments/2-trace.zip' },
  ]);
  // The deleted file is left out; the small body travels inline, the big one as a part.
  assert.deepEqual(failed.attachments[2], { name: 'note', contentType: 'text/plain', body: Buffer.from('small note').toString('base64') });
  assert.deepEqual(failed.attachments[3], { name: 'big', contentType: 'application/octet-stream', path: 'attachments/3-big' });
  assert.equal(failed.attachments.length, 4);
  assert.deepEqual(passed.attachments, []);
  assert.deepEqual(expectedFailure.tests[0].results[0].attachments, []);
  assert.deepEqual(attachments.parts.map((p) => p.name), ['attachments/1-test-failed-1.png', 'attachments/2-trace.zip', 'attachments/3-big']);
  assert.equal(attachments.parts[0].file, path.join(dir, 'test-failed-1.png'));
  assert.equal(fs.statSync(attachments.parts[2].file).size, LIMITS.inlineBodyBytes + 1);
});

test('policy "all" sends every attachment once; "none" sends none', (t) => {
  const dir = tempDir(t);
  const all = build(t, attachmentRun(dir), { policy: 'all' });
  // The expected failure's screenshot is the flaky test's file: one part, two references.
  assert.deepEqual(all.attachments.parts.map((p) => p.name), [
    'attachments/1-test-failed-1.png',
    'attachments/2-trace.zip',
    'attachments/3-big',
    'attachments/4-passed.txt',
  ]);
  assert.equal(all.report.suites[0].specs[1].tests[0].results[0].attachments[0].path, 'attachments/1-test-failed-1.png');

  const none = build(t, attachmentRun(dir), { policy: 'none' });
  assert.deepEqual(none.attachments.parts, []);
  assert.deepEqual(none.report.suites[0].specs[0].tests[0].results[0].attachments, []);
});

test('attachment part names are safe relative paths whatever the file is called', (t) => {
  const dir = tempDir(t);
  const odd = path.join(dir, '..weird name "quoted"\n.png');
  fs.writeFileSync(odd, 'x');
  const rootSuite = root([project('p', [suite('file', 'a.spec.js', [
    testCase('t', { results: [result({ status: 'failed', attachments: [{ name: 's', contentType: 'image/png', path: odd }] })] }),
  ])])]);
  const { attachments } = build(t, rootSuite);
  assert.deepEqual(attachments.parts.map((p) => p.name), ['attachments/1-weird_name_quoted_.png']);
});

test('a run of thousands of tests is written as one valid report', (t) => {
  const tests = Array.from({ length: 3000 }, (_, i) => testCase(`test ${i}`, { line: i + 1 }));
  const rootSuite = root([project('p', [suite('file', 'a.spec.js', tests)])]);
  const { report } = build(t, rootSuite);
  assert.equal(report.suites[0].specs.length, 3000);
  assert.equal(report.stats.expected, 3000);
});
