'use strict';

// Quarantined tests do not fail the run: the project's quarantine list, read from Playdeck when
// the run begins, turns a run whose only failures are quarantined tests' into a passing one
// (onEnd answers `{status: 'passed'}`, which sets Playwright's exit code). The failures are
// still uploaded as failures. On by default (option `quarantine: false` or PLAYDECK_QUARANTINE=off
// turns it off); when the list cannot be read, every failure fails the run, as without it.

const path = require('node:path');
const { endpoint } = require('./options');
const { PlaydeckError, authorization, describeResponse, request } = require('./upload');

const OFF = new Set(['0', 'off', 'false', 'no']);

function quarantineEnabled(raw = {}, env = process.env) {
  if (raw.quarantine === false) return false;
  return !OFF.has(String(env.PLAYDECK_QUARANTINE || '').trim().toLowerCase());
}

/** Playdeck's identity of a test: file (relative to rootDir), Playwright project, title path. */
function identity(file, projectName, titlePath) {
  return JSON.stringify([file, projectName, ...titlePath]);
}

function relativeFile(rootDir, file) {
  if (!file) return '';
  return (rootDir ? path.relative(rootDir, file) : file).split(path.sep).join('/');
}

/** The run's tests that failed unexpectedly: `{id, name}`, walked as the report is built. */
function failingTests(rootSuite, rootDir) {
  const found = [];
  const walk = (suite, titles, projectName, fileTitle) => {
    for (const entry of suite.entries()) {
      if (entry.type !== 'test') {
        walk(entry, [...titles, entry.title], projectName, fileTitle);
      } else if (entry.outcome() === 'unexpected') {
        const file = relativeFile(rootDir, entry.location && entry.location.file);
        found.push({
          id: identity(file, projectName, [...titles, entry.title]),
          name: [projectName, fileTitle, ...titles, entry.title].filter(Boolean).join(' › '),
        });
      }
    }
  };
  for (const projectSuite of rootSuite.suites || []) {
    const project = typeof projectSuite.project === 'function' ? projectSuite.project() : undefined;
    const projectName = project ? project.name : projectSuite.title;
    for (const fileSuite of projectSuite.suites || []) walk(fileSuite, [], projectName, fileSuite.title);
  }
  return found;
}

/** The project's quarantined tests: identity -> reason. A project not created yet has none. */
async function fetchQuarantine(options) {
  const headers = { accept: 'application/json' };
  const auth = await authorization(options);
  if (auth) headers.authorization = auth;
  const url = new URL(endpoint(options.serverUrl, '/api/quarantine'));
  url.searchParams.set('projectName', options.projectName);
  const response = await request(url, { headers }, options.timeoutMs, 'reading the quarantine');
  if (response.status === 404) return new Map();
  if (!response.ok) {
    throw new PlaydeckError(`reading the quarantine failed: ${await describeResponse(response)}`);
  }
  const body = await response.json();
  const found = new Map();
  for (const entry of body.tests || []) {
    found.set(identity(entry.file, entry.browser_project, entry.title_path), entry.reason);
  }
  return found;
}

/** The failing tests' names, split into those quarantined and the others. */
function splitFailures(rootSuite, rootDir, quarantined) {
  const counted = [];
  const excused = [];
  for (const { id, name } of failingTests(rootSuite, rootDir)) {
    (quarantined.has(id) ? excused : counted).push(name);
  }
  return { counted, excused };
}

module.exports = { fetchQuarantine, quarantineEnabled, splitFailures };
