'use strict';

// The reporter class end to end against a small recording HTTP server (node:http): what goes
// over the wire, and what a failure prints and returns.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const PlaydeckReporter = require('..');
const { config, project, result, root, suite, testCase } = require('./fakes');
const { capture, serve } = require('./support');

/** Parts of a multipart/form-data body: [{name, filename, body}]. */
function parseMultipart(request) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(request.headers['content-type']);
  const marker = `--${boundary[1] || boundary[2]}`;
  const text = request.body.toString('latin1');
  return text
    .split(marker)
    .slice(1, -1)
    .map((chunk) => {
      const [head, ...rest] = chunk.replace(/^\r\n/, '').split('\r\n\r\n');
      const body = rest.join('\r\n\r\n').replace(/\r\n$/, '');
      return {
        name: /name="([^"]*)"/.exec(head)[1],
        filename: (/filename="([^"]*)"/.exec(head) || [])[1],
        body: Buffer.from(body, 'latin1'),
      };
    });
}

function failingRun(dir) {
  const shot = path.join(dir, 'test-failed-1.png');
  fs.writeFileSync(shot, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
  return root([project('desktop', [suite('file', 'a.spec.js', [
    testCase('fails', {
      results: [result({
        status: 'failed',
        error: { message: 'boom' },
        attachments: [{ name: 'screenshot', contentType: 'image/png', path: shot }],
      })],
    }),
  ])])]);
}

async function runReporter(t, options, rootSuite) {
  // The upload alone: test/quarantine.test.js covers the quarantine request of a failed run.
  const reporter = new PlaydeckReporter({ quarantine: false, ...options });
  reporter.onBegin(config(), rootSuite);
  const { lines, restore } = capture(t);
  const returned = await reporter.onEnd({ status: 'failed', startTime: new Date(), duration: 10 });
  restore();
  return { returned, lines };
}

test('one upload with the fields, the report and the attachment parts; the URL is printed', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'playdeck-reporter-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const server = await serve(t, () => [201, { success: true, testRunId: 7, url: 'http://x/runs/7' }]);
  const { returned, lines } = await runReporter(
    t,
    {
      serverUrl: server.url,
      projectName: 'shop',
      apiKey: 'pd_0123',
      branch: 'main',
      commit: 'abc',
      environment: 'staging',
      runName: 'nightly',
      tags: ['a', 'b'],
    },
    failingRun(dir),
  );
  assert.equal(returned, undefined);
  assert.equal(lines.stdout, 'Playdeck: http://x/runs/7\n');
  assert.equal(lines.stderr, '');
  assert.equal(server.requests.length, 1);
  const [request] = server.requests;
  assert.equal(request.url, '/api/test-runs/upload');
  assert.equal(request.headers.authorization, 'Bearer pd_0123');
  const parts = parseMultipart(request);
  const fields = Object.fromEntries(parts.filter((p) => p.filename === undefined).map((p) => [p.name, p.body.toString()]));
  assert.equal(fields.projectName, 'shop');
  assert.equal(fields.branch, 'main');
  assert.equal(fields.commit, 'abc');
  assert.equal(fields.environment, 'staging');
  assert.equal(fields.runName, 'nightly');
  assert.equal(fields.tags, 'a,b');
  const file = parts.find((p) => p.name === 'file');
  assert.equal(file.filename, 'report.json');
  const report = JSON.parse(file.body.toString('utf8'));
  const attachment = report.suites[0].specs[0].tests[0].results[0].attachments[0];
  const part = parts.find((p) => p.name === 'attachment');
  assert.equal(part.filename, attachment.path);
  assert.deepEqual(part.body, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
});

test('a refused upload prints one line and keeps the exit code; strict fails the run', async (t) => {
  const server = await serve(t, () => [401, { title: 'Unauthorized', detail: 'Invalid or expired API key' }]);
  const options = { serverUrl: server.url, projectName: 'shop', apiKey: 'pd_wrong' };
  const lenient = await runReporter(t, options, failingRun(fs.mkdtempSync(path.join(os.tmpdir(), 'pd-'))));
  assert.equal(lenient.returned, undefined);
  assert.equal(lenient.lines.stdout, '');
  assert.equal(lenient.lines.stderr, 'Playdeck: upload failed: HTTP 401 Unauthorized: Invalid or expired API key\n');
  assert.ok(!lenient.lines.stderr.includes('pd_wrong'));

  const strict = await runReporter(t, { ...options, strict: true }, failingRun(fs.mkdtempSync(path.join(os.tmpdir(), 'pd-'))));
  assert.deepEqual(strict.returned, { status: 'failed' });
});

test('without a server URL nothing is sent and the one line says why', async (t) => {
  const { returned, lines } = await runReporter(t, { projectName: 'shop' }, failingRun(fs.mkdtempSync(path.join(os.tmpdir(), 'pd-'))));
  assert.equal(returned, undefined);
  assert.match(lines.stderr, /^Playdeck: nothing sent: serverUrl is not set .*\n$/);
});

test('a run where no test ran sends nothing', async (t) => {
  const server = await serve(t, () => [201, {}]);
  const notRun = root([project('p', [suite('file', 'a.spec.js', [testCase('listed', { results: [] })])])]);
  const { lines } = await runReporter(t, { serverUrl: server.url, projectName: 'shop' }, notRun);
  assert.equal(lines.stdout, 'Playdeck: no test ran, nothing sent\n');
  assert.equal(server.requests.length, 0);
});
