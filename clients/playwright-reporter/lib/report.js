'use strict';

// Builds report.json in the shape of Playwright's own JSON reporter (`--reporter=json`), which
// the Playdeck server parses: `config`, `suites` (one per file, describe blocks nested, each spec
// holding one test per Playwright project), `errors`, `stats`.
//
// Memory: Playwright keeps its TestCase/TestResult objects until the end of the run anyway, so
// the reporter keeps no copy of them. At the end it builds a tree of references (file ->
// describe -> spec -> tests) and writes the report one file suite at a time, so at no moment
// does it hold the whole serialised report, let alone the attachments.

const fs = require('node:fs');
const path = require('node:path');

const LIMITS = Object.freeze({
  outputBytes: 64 * 1024, // per attempt, per stream (stdout, stderr)
  errorChars: 32 * 1024, // per message and per stack
  errorsPerAttempt: 20,
  globalErrors: 50,
  steps: 200, // per attempt, counted depth first
  stepDepth: 6,
  stepTitleChars: 500,
  annotationChars: 2000,
  inlineBodyBytes: 64 * 1024, // larger inline attachments are sent as parts
});

// Steps worth keeping: the user's own steps, assertions and browser API calls. Hooks and fixture
// set-up steps are kept only when they failed (their error is the story).
const KEPT_STEP_CATEGORIES = new Set(['test.step', 'expect', 'pw:api']);
const ERROR_ONLY_STEP_CATEGORIES = new Set(['hook', 'fixture']);

function posix(p) {
  return p.split(path.sep).join('/');
}

function relativeFile(rootDir, file) {
  if (!file) return '';
  return rootDir ? posix(path.relative(rootDir, file)) : posix(file);
}

const CUT_MARK = '\n… [cut by the Playdeck reporter]';

/** `value` in at most `limit` characters, saying so when it had to be cut. */
function cut(value, limit) {
  if (typeof value !== 'string') return undefined;
  return value.length > limit ? value.slice(0, limit - CUT_MARK.length) + CUT_MARK : value;
}

// --- the tree -------------------------------------------------------------------------------

function newNode(title, location) {
  return {
    title,
    file: location.file,
    line: location.line,
    column: location.column,
    suites: new Map(),
    specs: new Map(),
  };
}

function locationOf(rootDir, entity) {
  const loc = entity.location;
  if (!loc) return { file: '', line: 0, column: 0 };
  return { file: relativeFile(rootDir, loc.file), line: loc.line || 0, column: loc.column || 0 };
}

function keyOf(title, loc) {
  return `${title}\u0000${loc.file}:${loc.line}:${loc.column}`;
}

function entriesOf(suite) {
  if (typeof suite.entries === 'function') return suite.entries();
  return [...(suite.tests || []), ...(suite.suites || [])];
}

function mergeInto(node, suite, projectName, rootDir) {
  for (const entry of entriesOf(suite)) {
    const loc = locationOf(rootDir, entry);
    const key = keyOf(entry.title, loc);
    if (entry.type === 'test') {
      let spec = node.specs.get(key);
      if (!spec) {
        spec = { title: entry.title, ...loc, tests: [] };
        node.specs.set(key, spec);
      }
      spec.tests.push({ test: entry, projectName });
    } else {
      let child = node.suites.get(key);
      if (!child) {
        child = newNode(entry.title, loc);
        node.suites.set(key, child);
      }
      mergeInto(child, entry, projectName, rootDir);
    }
  }
}

/**
 * File suites with the same spec run by several projects merged, as Playwright's JSON reporter
 * does: `specs[].tests` holds one test per project. Only references to Playwright's objects.
 */
function buildTree(rootSuite, rootDir) {
  const files = new Map();
  for (const projectSuite of rootSuite.suites) {
    const project = typeof projectSuite.project === 'function' ? projectSuite.project() : undefined;
    const projectName = project ? project.name : projectSuite.title;
    for (const fileSuite of projectSuite.suites) {
      const loc = locationOf(rootDir, fileSuite);
      let node = files.get(loc.file);
      if (!node) {
        node = newNode(fileSuite.title, { file: loc.file, line: 0, column: 0 });
        files.set(loc.file, node);
      }
      mergeInto(node, fileSuite, projectName, rootDir);
    }
  }
  return files;
}

// --- serialising one test -------------------------------------------------------------------

function serializeError(error) {
  if (!error) return undefined;
  const out = {};
  const message = cut(error.message ?? (error.value !== undefined ? String(error.value) : undefined), LIMITS.errorChars);
  if (message !== undefined) out.message = message;
  const stack = cut(error.stack, LIMITS.errorChars);
  if (stack !== undefined) out.stack = stack;
  if (error.location) {
    out.location = { file: error.location.file, line: error.location.line, column: error.location.column };
  }
  return out;
}

function truncateUtf8(textValue, maxBytes) {
  const buffer = Buffer.from(textValue, 'utf8');
  if (buffer.length <= maxBytes) return textValue;
  // Cutting inside a multi-byte character leaves U+FFFD at the end: drop it.
  return buffer.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD+$/, '');
}

/** stdout or stderr chunks as `[{text}]`, at most `limit` bytes, with a note of what was left. */
function boundedOutput(chunks, limit = LIMITS.outputBytes) {
  const out = [];
  let used = 0;
  let dropped = 0;
  for (const chunk of chunks || []) {
    const value = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const bytes = Buffer.byteLength(value, 'utf8');
    if (used >= limit) {
      dropped += bytes;
    } else if (used + bytes <= limit) {
      out.push({ text: value });
      used += bytes;
    } else {
      const head = truncateUtf8(value, limit - used);
      out.push({ text: head });
      dropped += bytes - Buffer.byteLength(head, 'utf8');
      used = limit;
    }
  }
  if (dropped > 0) out.push({ text: `\n… [${dropped} more bytes not sent by the Playdeck reporter]\n` });
  return out;
}

function keepStep(step) {
  if (KEPT_STEP_CATEGORIES.has(step.category)) return true;
  return ERROR_ONLY_STEP_CATEGORIES.has(step.category) && Boolean(step.error);
}

/** Steps worth keeping, depth first, at most LIMITS.steps and LIMITS.stepDepth deep. */
function serializeSteps(steps, budget, depth = 0) {
  const out = [];
  for (const step of steps || []) {
    if (budget.left <= 0) break;
    if (!keepStep(step)) continue;
    budget.left -= 1;
    const item = {
      title: cut(step.title, LIMITS.stepTitleChars) ?? '',
      category: step.category,
      duration: step.duration,
    };
    if (step.startTime instanceof Date) item.startTime = step.startTime.toISOString();
    if (step.error) item.error = { message: cut(step.error.message, LIMITS.errorChars) ?? '' };
    if (depth + 1 < LIMITS.stepDepth && step.steps && step.steps.length) {
      const children = serializeSteps(step.steps, budget, depth + 1);
      if (children.length) item.steps = children;
    }
    out.push(item);
  }
  return out;
}

function serializeAnnotations(annotations) {
  return (annotations || []).map((a) => {
    const item = { type: String(a.type) };
    if (a.description !== undefined) item.description = cut(String(a.description), LIMITS.annotationChars);
    return item;
  });
}

function isFailedAttempt(result, test) {
  return result.status !== 'skipped' && result.status !== test.expectedStatus;
}

function serializeResult(result, test, attachments) {
  const json = {
    workerIndex: result.workerIndex,
    parallelIndex: result.parallelIndex,
    status: result.status,
    duration: result.duration,
    error: serializeError(result.error),
    errors: (result.errors || []).slice(0, LIMITS.errorsPerAttempt).map(serializeError),
    stdout: boundedOutput(result.stdout),
    stderr: boundedOutput(result.stderr),
    retry: result.retry,
    steps: undefined,
    startTime: result.startTime instanceof Date ? result.startTime.toISOString() : result.startTime,
    annotations: serializeAnnotations(result.annotations),
    attachments: attachments.forAttempt(result.attachments || [], isFailedAttempt(result, test)),
  };
  const steps = serializeSteps(result.steps, { left: LIMITS.steps });
  if (steps.length) json.steps = steps;
  if (result.error && result.error.location) json.errorLocation = json.error.location;
  return json;
}

function serializeTest({ test, projectName }, attachments) {
  return {
    timeout: test.timeout,
    annotations: serializeAnnotations(test.annotations),
    expectedStatus: test.expectedStatus,
    projectId: projectName,
    projectName,
    results: test.results.map((r) => serializeResult(r, test, attachments)),
    status: test.outcome(),
  };
}

function serializeSpec(spec, attachments) {
  const first = spec.tests[0].test;
  return {
    title: spec.title,
    ok: spec.tests.every(({ test }) => test.ok()),
    // Playwright's JSON reporter writes tags without their '@'; the server puts it back.
    tags: (first.tags || []).map((t) => (t.startsWith('@') ? t.slice(1) : t)),
    tests: spec.tests.map((t) => serializeTest(t, attachments)),
    id: first.id,
    file: spec.file,
    line: spec.line,
    column: spec.column,
  };
}

function serializeNode(node, attachments) {
  const suites = [];
  for (const child of node.suites.values()) {
    const serialized = serializeNode(child, attachments);
    if (serialized) suites.push(serialized);
  }
  const specs = [...node.specs.values()].map((s) => serializeSpec(s, attachments));
  if (!specs.length && !suites.length) return null;
  const out = { title: node.title, file: node.file, line: node.line, column: node.column, specs };
  if (suites.length) out.suites = suites;
  return out;
}

// --- attachments ----------------------------------------------------------------------------

function safeBase(name) {
  const cleaned = String(name || 'attachment').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
  return (cleaned || 'attachment').slice(-100);
}

/**
 * Decides which attachments go (policy `failures` | `all` | `none`) and names each file part
 * `attachments/<n>-<basename>`, the path the report then uses. Files are only stat'ed here:
 * their bytes are read when the request body is streamed.
 */
class AttachmentCollector {
  constructor(policy, tempDir) {
    this.policy = policy;
    this.tempDir = tempDir;
    this.parts = []; // {file, name, contentType}
    this.byPath = new Map();
    this.counter = 0;
    this.skipped = 0;
  }

  nextName(base) {
    this.counter += 1;
    return `attachments/${this.counter}-${safeBase(base)}`;
  }

  forAttempt(raw, failed) {
    if (this.policy === 'none' || (this.policy === 'failures' && !failed)) {
      this.skipped += raw.length;
      return [];
    }
    const out = [];
    for (const a of raw) {
      const item = this.one(a);
      if (item) out.push(item);
    }
    return out;
  }

  one(a) {
    const contentType = a.contentType || 'application/octet-stream';
    if (a.path) {
      const known = this.byPath.get(a.path);
      if (known) return { name: a.name, contentType, path: known };
      let stat;
      try {
        stat = fs.statSync(a.path);
      } catch {
        stat = undefined;
      }
      if (!stat || !stat.isFile()) {
        this.skipped += 1;
        return null;
      }
      const name = this.nextName(path.basename(a.path));
      this.byPath.set(a.path, name);
      this.parts.push({ file: a.path, name, contentType });
      return { name: a.name, contentType, path: name };
    }
    if (a.body !== undefined && a.body !== null) {
      const body = Buffer.isBuffer(a.body) ? a.body : Buffer.from(a.body);
      if (body.length <= LIMITS.inlineBodyBytes) {
        return { name: a.name, contentType, body: body.toString('base64') };
      }
      const name = this.nextName(a.name);
      const file = path.join(this.tempDir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, body);
      this.parts.push({ file, name, contentType });
      return { name: a.name, contentType, path: name };
    }
    return null;
  }
}

// --- the report file ------------------------------------------------------------------------

function configSummary(config) {
  if (!config) return {};
  const metadata = { ...(config.metadata || {}) };
  delete metadata.gitDiff; // can be megabytes; the server drops it too
  // An allow-list on purpose: `reporter` and `webServer` may hold credentials (this reporter's
  // own options among them).
  return {
    configFile: config.configFile,
    rootDir: config.rootDir ? posix(config.rootDir) : undefined,
    version: config.version,
    workers: config.workers,
    fullyParallel: config.fullyParallel,
    forbidOnly: config.forbidOnly,
    globalTimeout: config.globalTimeout,
    maxFailures: config.maxFailures,
    metadata,
    shard: config.shard,
    updateSnapshots: config.updateSnapshots,
    projects: (config.projects || []).map((p) => ({
      outputDir: p.outputDir ? posix(p.outputDir) : undefined,
      repeatEach: p.repeatEach,
      retries: p.retries,
      id: p.name,
      name: p.name,
      testDir: p.testDir ? posix(p.testDir) : undefined,
      timeout: p.timeout,
    })),
  };
}

function allTests(rootSuite) {
  if (typeof rootSuite.allTests === 'function') return rootSuite.allTests();
  const out = [];
  const walk = (suite) => {
    out.push(...(suite.tests || []));
    (suite.suites || []).forEach(walk);
  };
  walk(rootSuite);
  return out;
}

function stats(rootSuite, fullResult) {
  const counts = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
  for (const test of allTests(rootSuite)) counts[test.outcome()] = (counts[test.outcome()] || 0) + 1;
  const startTime = fullResult && fullResult.startTime instanceof Date ? fullResult.startTime : new Date();
  return { startTime: startTime.toISOString(), duration: fullResult ? fullResult.duration : 0, ...counts };
}

/**
 * Writes the report to `file`, one file suite at a time, and returns the attachment parts to
 * send with it and how many tests it holds.
 */
function writeReport(file, { config, rootSuite, fullResult, errors, attachments }) {
  const rootDir = config && config.rootDir;
  const tree = buildTree(rootSuite, rootDir);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, `{"config":${JSON.stringify(configSummary(config))},"suites":[`);
    let first = true;
    for (const node of tree.values()) {
      const serialized = serializeNode(node, attachments);
      if (!serialized) continue;
      fs.writeSync(fd, (first ? '' : ',') + JSON.stringify(serialized));
      first = false;
    }
    const tail = {
      errors: (errors || []).slice(0, LIMITS.globalErrors).map(serializeError),
      stats: stats(rootSuite, fullResult),
    };
    fs.writeSync(fd, `],${JSON.stringify(tail).slice(1)}`);
  } finally {
    fs.closeSync(fd);
  }
}

module.exports = {
  LIMITS,
  AttachmentCollector,
  boundedOutput,
  buildTree,
  configSummary,
  serializeError,
  serializeSteps,
  writeReport,
};
