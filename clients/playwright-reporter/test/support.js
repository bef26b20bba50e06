'use strict';

// A recording HTTP server on a free loopback port, and the console lines a test printed.

const http = require('node:http');

function serve(t, handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(request);
      const [status, body] = handler(request);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      t.after(() => server.close());
      resolve({ url: `http://127.0.0.1:${server.address().port}`, requests });
    });
  });
}

function capture(t) {
  const lines = { stdout: '', stderr: '' };
  // console, not process.stdout: the test runner talks to its parent over stdout.
  const { log, error } = console;
  console.log = (s) => (lines.stdout += `${s}\n`);
  console.error = (s) => (lines.stderr += `${s}\n`);
  const restore = () => {
    console.log = log;
    console.error = error;
  };
  t.after(restore);
  return { lines, restore };
}

module.exports = { capture, serve };
