'use strict';

// `live: true`: the run streamed while it runs. onBegin opens the reporter's part of a live
// run; every `liveIntervalMs` the tests finished since (their last attempt ended) go as one
// batch, the same report and attachment parts as the upload, with their own Idempotency-Key
// (a retried batch is stored once); with nothing to send, a heartbeat now and then; onEnd
// sends the rest and closes the part. A process killed outright sends nothing more: the
// server closes its part as interrupted after its heartbeat timeout, keeping every batch.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { AttachmentCollector, writeReport } = require('./report');
const { authorization, postJson, uploadRun } = require('./upload');

const HEARTBEAT_MS = 30_000;

/** A view of `suite` holding only the tests in `keep` (the shape writeReport reads). */
function subset(suite, keep) {
  const entries = [];
  const all = typeof suite.entries === 'function' ? suite.entries() : [...(suite.tests || []), ...(suite.suites || [])];
  for (const entry of all) {
    if (entry.type === 'test') {
      if (keep.has(entry)) entries.push(entry);
    } else {
      const child = subset(entry, keep);
      if (child.entries().length) entries.push(child);
    }
  }
  const view = {
    type: suite.type,
    title: suite.title,
    location: suite.location,
    suites: entries.filter((e) => e.type !== 'test'),
    tests: entries.filter((e) => e.type === 'test'),
    entries: () => entries,
    allTests: () => {
      const out = [];
      const walk = (node) => node.entries().forEach((e) => (e.type === 'test' ? out.push(e) : walk(e)));
      walk(view);
      return out;
    },
  };
  if (typeof suite.project === 'function') view.project = () => suite.project();
  return view;
}

/** Whether this attempt is the test's last (no retry follows). */
function lastAttempt(test, result) {
  return (
    result.status === 'skipped' ||
    result.status === test.expectedStatus ||
    result.retry >= (test.retries || 0)
  );
}

class LiveStream {
  constructor(options, { say }) {
    this.options = options;
    this.say = say;
    this.finished = [];
    this.unsent = null; // {key, tests}: a batch that failed to go, sent again with its key
    this.partPath = undefined;
    this.url = undefined;
    this.problem = undefined;
    this.lastContact = Date.now();
    this.busy = Promise.resolve();
    this.timer = undefined;
  }

  /** Opens the part (in the background: onBegin does not wait for the network). */
  start(config, rootSuite, fields) {
    this.config = config;
    this.rootSuite = rootSuite;
    this.busy = this.open(fields).catch((error) => {
      this.problem = error.message;
    });
    this.timer = setInterval(() => this.tick(), this.options.liveIntervalMs);
    this.timer.unref();
  }

  async open(fields) {
    this.auth = await authorization(this.options);
    const tags = fields.tags ? (fields.tags.startsWith('[') ? JSON.parse(fields.tags) : fields.tags.split(',')) : [];
    const body = { ...fields, tags };
    for (const key of Object.keys(body)) if (body[key] === undefined || body[key] === '') delete body[key];
    const opened = await postJson({
      options: this.options,
      path: '/api/test-runs/live',
      body,
      say: this.say,
      what: 'opening the live run',
      auth: this.auth,
      // One key for every attempt: a retried opening answers the part the first one opened.
      idempotencyKey: `playwright-open-${crypto.randomUUID()}`,
    });
    this.partPath = `/api/test-runs/${opened.testRunId}/parts/${opened.partId}`;
    this.url = opened.url;
    this.lastContact = Date.now();
  }

  testEnded(test, result) {
    if (lastAttempt(test, result)) this.finished.push(test);
  }

  tick() {
    // One request at a time, in order.
    this.busy = this.busy.then(() => this.sendFinished()).catch((error) => {
      this.problem = error.message;
    });
  }

  async sendFinished() {
    if (!this.partPath) return;
    if (!this.unsent && this.finished.length) {
      this.unsent = { key: `playwright-batch-${crypto.randomUUID()}`, tests: this.finished };
      this.finished = [];
    }
    if (!this.unsent) {
      if (Date.now() - this.lastContact >= HEARTBEAT_MS) {
        await postJson({ options: this.options, path: `${this.partPath}/heartbeat`, say: this.say, what: 'heartbeat', auth: this.auth });
        this.lastContact = Date.now();
      }
      return;
    }
    const { key, tests } = this.unsent;
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playdeck-live-'));
    try {
      const reportFile = path.join(tempDir, 'batch.json');
      const attachments = new AttachmentCollector(this.options.uploadAttachments, tempDir);
      writeReport(reportFile, {
        config: this.config,
        rootSuite: subset(this.rootSuite, new Set(tests)),
        fullResult: undefined,
        errors: [],
        attachments,
      });
      await uploadRun({
        options: this.options,
        fields: {},
        reportFile,
        parts: attachments.parts,
        say: this.say,
        path: `${this.partPath}/results`,
        idempotencyKey: key,
      });
    } finally {
      fs.rmSync(tempDir, { recursive: true, force: true });
    }
    this.unsent = null;
    this.lastContact = Date.now();
  }

  /** Sends what is left and closes the part; the run's URL. Throws when it could not. */
  async finish(fullResult) {
    clearInterval(this.timer);
    await this.busy;
    if (!this.partPath) return undefined;
    await this.sendFinished();
    if (this.finished.length) await this.sendFinished();
    const cutShort = ['interrupted', 'timedout'].includes(fullResult && fullResult.status);
    await postJson({
      options: this.options,
      path: `${this.partPath}/close`,
      body: { status: cutShort ? fullResult.status : null },
      say: this.say,
      what: 'closing the live run',
      auth: this.auth,
    });
    return this.url;
  }
}

module.exports = { LiveStream, lastAttempt, subset };
