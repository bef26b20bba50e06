'use strict';

// Streaming (`live: true`) and the CI build's key, against a small recording HTTP server.

const assert = require('node:assert/strict');
const { test } = require('node:test');

const PlaydeckReporter = require('..');
const ci = require('../lib/ci');
const { config, project, result, root, suite, testCase } = require('./fakes');
const { serve } = require('./support');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function liveServer(t, { failFirstBatch = false } = {}) {
  let batches = 0;
  return serve(t, (request) => {
    if (request.url === '/api/test-runs/live') return [201, { testRunId: 5, partId: 9, url: 'http://x/runs/5' }];
    if (request.url.endsWith('/results')) {
      batches += 1;
      if (failFirstBatch && batches === 1) return [503, { title: 'Service Unavailable' }];
      return [201, { testRunId: 5 }];
    }
    return [200, { state: 'closed' }];
  });
}

function quiet(t) {
  const { log, error } = console;
  const lines = [];
  console.log = (s) => lines.push(s);
  console.error = (s) => lines.push(s);
  t.after(() => {
    console.log = log;
    console.error = error;
  });
  return lines;
}

test('a live run opens, sends finished tests in batches, and closes', async (t) => {
  const server = await liveServer(t);
  const lines = quiet(t);
  const first = testCase('first');
  const retried = testCase('retried', {
    results: [result({ status: 'failed', retry: 0 }), result({ status: 'passed', retry: 1 })],
  });
  retried.retries = 1;
  const rootSuite = root([project('desktop', [suite('file', 'a.spec.js', [first, retried])])]);
  const reporter = new PlaydeckReporter({
    serverUrl: server.url,
    projectName: 'shop',
    live: true,
    liveIntervalMs: 30,
    runKey: 'build-1',
  });
  reporter.onBegin(config({ shard: { current: 2, total: 3 } }), rootSuite);
  reporter.onTestEnd(first, first.results[0]);
  await sleep(200);
  reporter.onTestEnd(retried, retried.results[0]); // a retry follows: not finished yet
  await sleep(200);
  reporter.onTestEnd(retried, retried.results[1]);
  await reporter.onEnd({ status: 'passed', startTime: new Date(), duration: 10 });

  const urls = server.requests.map((r) => r.url);
  assert.deepEqual(urls, [
    '/api/test-runs/live',
    '/api/test-runs/5/parts/9/results',
    '/api/test-runs/5/parts/9/results',
    '/api/test-runs/5/parts/9/close',
  ]);
  const opened = JSON.parse(server.requests[0].body.toString());
  assert.equal(opened.projectName, 'shop');
  assert.equal(opened.runKey, 'build-1');
  assert.equal(opened.shard, '2/3');
  assert.equal(opened.expectedTests, 2);
  const batches = server.requests.slice(1, 3).map((r) => r.body.toString('latin1'));
  assert.match(batches[0], /"title":"first"/);
  assert.doesNotMatch(batches[0], /"title":"retried"/);
  assert.match(batches[1], /"title":"retried"/);
  assert.notEqual(server.requests[1].headers['idempotency-key'], server.requests[2].headers['idempotency-key']);
  assert.deepEqual(JSON.parse(server.requests[3].body.toString()), { status: null });
  assert.ok(lines.includes('Playdeck: http://x/runs/5'), lines.join('\n'));
});

test('a batch that failed is sent again at the next tick with the same key', async (t) => {
  const server = await liveServer(t, { failFirstBatch: true });
  quiet(t);
  const only = testCase('only');
  const rootSuite = root([project('desktop', [suite('file', 'a.spec.js', [only])])]);
  const reporter = new PlaydeckReporter({
    serverUrl: server.url,
    projectName: 'shop',
    live: true,
    liveIntervalMs: 20,
    retries: 0,
  });
  reporter.onBegin(config(), rootSuite);
  reporter.onTestEnd(only, only.results[0]);
  await sleep(300); // the next tick sends the failed batch again
  await reporter.onEnd({ status: 'interrupted', startTime: new Date(), duration: 10 });
  const batches = server.requests.filter((r) => r.url.endsWith('/results'));
  assert.ok(batches.length >= 2);
  assert.equal(new Set(batches.map((r) => r.headers['idempotency-key'])).size, 1);
  const close = server.requests[server.requests.length - 1];
  assert.deepEqual(JSON.parse(close.body.toString()), { status: 'interrupted' });
});

test('the run key and shard come from the CI system; a shard alone stays a run of its own', () => {
  const gitlab = { GITLAB_CI: 'true', CI_PROJECT_ID: '7', CI_PIPELINE_ID: '70', CI_NODE_INDEX: '2', CI_NODE_TOTAL: '4' };
  assert.equal(ci.runKey(gitlab), 'gitlab:7/70');
  assert.equal(ci.shard(gitlab), '2/4');
  assert.equal(ci.runKey({}), undefined);
});
