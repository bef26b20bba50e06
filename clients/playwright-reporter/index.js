'use strict';

// Playdeck's Playwright reporter: at the end of the run, one multipart upload of the whole run
// (every test of every project, every attempt, errors, output, steps, attachments) to
// `POST {serverUrl}/api/test-runs/upload`. It never changes Playwright's exit code unless
// `strict: true`, and a problem costs one line of output.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { resolveOptions } = require('./lib/options');
const { runMetadata } = require('./lib/metadata');
const { AttachmentCollector, LIMITS, writeReport } = require('./lib/report');
const { fetchQuarantine, quarantineEnabled, splitFailures } = require('./lib/quarantine');
const { PlaydeckError, uploadRun } = require('./lib/upload');

const PREFIX = 'Playdeck:';

function tagsField(tags) {
  if (!tags.length) return undefined;
  // The server splits on commas, or reads a JSON array when the value starts with '['.
  return tags.some((t) => t.includes(',')) ? JSON.stringify(tags) : tags.join(',');
}

function anyTestRan(rootSuite) {
  const tests = typeof rootSuite.allTests === 'function' ? rootSuite.allTests() : [];
  return tests.some((t) => t.results && t.results.length > 0);
}

class PlaydeckReporter {
  constructor(options = {}) {
    const { options: resolved, problems } = resolveOptions(options);
    this.options = resolved;
    this.problems = problems;
    this.config = undefined;
    this.rootSuite = undefined;
    this.errors = [];
    this.quarantine = quarantineEnabled(options) && !problems.length;
  }

  printsToStdio() {
    // One line at the end is not a progress report: let Playwright keep its own.
    return false;
  }

  onBegin(config, suite) {
    this.config = config;
    this.rootSuite = suite;
  }

  onError(error) {
    if (this.errors.length < LIMITS.globalErrors) this.errors.push(error);
  }

  async onEnd(result) {
    try {
      const url = await this.send(result);
      if (url) console.log(`${PREFIX} ${url}`);
    } catch (error) {
      const message =
        error instanceof PlaydeckError ? error.message : `reporter error: ${error && error.message}`;
      console.error(`${PREFIX} ${message.replace(/\s+/g, ' ')}`);
      // Results that did not reach Playdeck are not excused by its quarantine either.
      return this.options.strict ? { status: 'failed' } : undefined;
    }
    return this.quarantineVerdict(result);
  }

  /** `{status: 'passed'}` when the run failed only through quarantined tests; else nothing. */
  async quarantineVerdict(result) {
    if (!this.quarantine || !this.rootSuite || !result || result.status !== 'failed') {
      return undefined;
    }
    // Read only for a failed run: a passing one costs the server nothing more.
    let list;
    try {
      list = await fetchQuarantine(this.options);
    } catch (error) {
      const reason = error instanceof PlaydeckError ? error.message : String(error && error.message);
      console.error(`${PREFIX} quarantine not applied: ${reason.replace(/\s+/g, ' ')}`);
      return undefined;
    }
    const rootDir = this.config && this.config.rootDir;
    const { counted, excused } = splitFailures(this.rootSuite, rootDir, list);
    if (!excused.length) return undefined;
    const names = excused.slice(0, 10).join(', ') + (excused.length > 10 ? ' …' : '');
    if (counted.length || this.errors.length) {
      console.log(`${PREFIX} quarantined failures (not counted): ${names}`);
      return undefined;
    }
    console.log(`${PREFIX} only quarantined tests failed, the run passes: ${names}`);
    return { status: 'passed' };
  }

  /** Uploads the run; the run's URL, or nothing when there was nothing to send. */
  async send(fullResult) {
    if (this.problems.length) {
      throw new PlaydeckError(`nothing sent: ${this.problems.join('; ')}`);
    }
    if (!this.rootSuite || !anyTestRan(this.rootSuite)) {
      console.log(`${PREFIX} no test ran, nothing sent`);
      return undefined;
    }
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playdeck-reporter-'));
    try {
      const reportFile = path.join(tempDir, 'report.json');
      const attachments = new AttachmentCollector(this.options.uploadAttachments, tempDir);
      writeReport(reportFile, {
        config: this.config,
        rootSuite: this.rootSuite,
        fullResult,
        errors: this.errors,
        attachments,
      });
      const cwd = (this.config && this.config.rootDir) || process.cwd();
      const meta = runMetadata(this.options, { cwd });
      const fields = {
        projectName: this.options.projectName,
        ...meta,
        environment: this.options.environment,
        runName: this.options.runName,
        tags: tagsField(this.options.tags),
      };
      const answer = await uploadRun({
        options: this.options,
        fields,
        reportFile,
        parts: attachments.parts,
        say: (line) => console.error(`${PREFIX} upload: ${line}`),
      });
      return answer.url || (answer.testRunId ? `run ${answer.testRunId} uploaded` : 'run uploaded');
    } finally {
      fs.rmSync(tempDir, { recursive: true, force: true });
    }
  }
}

module.exports = PlaydeckReporter;
module.exports.default = PlaydeckReporter;
