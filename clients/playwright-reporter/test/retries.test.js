'use strict';

// The upload retries transient failures with one Idempotency-Key, against a node:http server
// that answers 503 (Retry-After: 0) before it answers 201, and gives up on refusals.

const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const { uploadRun, PlaydeckError } = require('../lib/upload');
const { resolveOptions } = require('../lib/options');

function serve(t, statuses) {
  const keys = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      keys.push(req.headers['idempotency-key']);
      const status = statuses.length > 1 ? statuses.shift() : statuses[0];
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify(status === 201 ? { testRunId: 7, url: 'http://x/runs/7' } : { detail: 'no' }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      t.after(() => server.close());
      resolve({ url: `http://127.0.0.1:${server.address().port}`, keys });
    });
  });
}

function report(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'playdeck-retries-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'report.json');
  fs.writeFileSync(file, '{}');
  return file;
}

test('a 503 is retried with the same key and the run is sent once', async (t) => {
  const server = await serve(t, [503, 503, 201]);
  const { options } = resolveOptions({ serverUrl: server.url, projectName: 'p' }, {});
  const said = [];
  const answer = await uploadRun({ options, fields: {}, reportFile: report(t), parts: [], say: (l) => said.push(l) });
  assert.equal(answer.testRunId, 7);
  assert.equal(server.keys.length, 3);
  assert.equal(new Set(server.keys).size, 1);
  assert.ok(server.keys[0]);
  assert.deepEqual(said, [
    'attempt 1 of 5 failed (HTTP 503); retrying in 0.0 s',
    'attempt 2 of 5 failed (HTTP 503); retrying in 0.0 s',
  ]);
});

test('a refusal is not retried', async (t) => {
  const server = await serve(t, [422]);
  const { options } = resolveOptions({ serverUrl: server.url, projectName: 'p' }, {});
  await assert.rejects(uploadRun({ options, fields: {}, reportFile: report(t), parts: [] }), PlaydeckError);
  assert.equal(server.keys.length, 1);
});

test('retries are bounded by the option', async (t) => {
  const server = await serve(t, [503]);
  const { options } = resolveOptions({ serverUrl: server.url, projectName: 'p', retries: 1 }, {});
  await assert.rejects(uploadRun({ options, fields: {}, reportFile: report(t), parts: [] }), /HTTP 503/);
  assert.equal(server.keys.length, 2);
});
