'use strict';

// The quarantine of a failed run: read from the server after the upload; a run whose only
// failures are quarantined tests' passes, any other failure (or a list that cannot be read)
// leaves it failed.

const assert = require('node:assert/strict');
const { test } = require('node:test');

const PlaydeckReporter = require('..');
const { config, project, result, root, suite, testCase } = require('./fakes');
const { capture, serve } = require('./support');

function run(...tests) {
  return root([project('desktop', [suite('file', 'a.spec.js', [suite('describe', 'cart', tests)])])]);
}

function failing(title) {
  return testCase(title, { results: [result({ status: 'failed', error: { message: 'boom' } })] });
}

function quarantineOf(...titles) {
  return {
    tests: titles.map((title) => ({
      file: 'a.spec.js',
      browser_project: 'desktop',
      title_path: ['cart', title],
      reason: 'INC-1',
    })),
  };
}

async function end(t, server, rootSuite, options = {}) {
  const reporter = new PlaydeckReporter({ serverUrl: server.url, projectName: 'shop', apiKey: 'pd_k', ...options });
  reporter.onBegin(config(), rootSuite);
  const { lines, restore } = capture(t);
  const returned = await reporter.onEnd({ status: 'failed', startTime: new Date(), duration: 10 });
  restore();
  return { returned, lines };
}

function server(t, list, status = 200) {
  return serve(t, (request) =>
    request.url.startsWith('/api/quarantine') ? [status, list] : [201, { url: 'http://x/runs/7' }],
  );
}

test('a run whose only failure is quarantined passes, and says so', async (t) => {
  const s = await server(t, quarantineOf('pays'));
  const { returned, lines } = await end(t, s, run(failing('pays'), testCase('adds')));
  assert.deepEqual(returned, { status: 'passed' });
  assert.match(lines.stdout, /only quarantined tests failed, the run passes: desktop › a\.spec\.js › cart › pays/);
  assert.equal(s.requests[0].url, '/api/test-runs/upload'); // the failure is sent as it is
  assert.equal(s.requests[1].url, '/api/quarantine?projectName=shop');
  assert.equal(s.requests[1].headers.authorization, 'Bearer pd_k');
});

test('another failure keeps the run failed', async (t) => {
  const s = await server(t, quarantineOf('pays'));
  const { returned, lines } = await end(t, s, run(failing('pays'), failing('adds')));
  assert.equal(returned, undefined);
  assert.match(lines.stdout, /quarantined failures \(not counted\): desktop › a\.spec\.js › cart › pays/);
});

test('an unreadable list is said and changes nothing', async (t) => {
  const s = await server(t, { detail: 'no' }, 403);
  const { returned, lines } = await end(t, s, run(failing('pays')));
  assert.equal(returned, undefined);
  assert.match(lines.stderr, /quarantine not applied: reading the quarantine failed/);
});

test('switched off, nothing is read', async (t) => {
  const s = await server(t, quarantineOf('pays'));
  const { returned } = await end(t, s, run(failing('pays')), { quarantine: false });
  assert.equal(returned, undefined);
  assert.deepEqual(s.requests.map((r) => r.url), ['/api/test-runs/upload']);
});
