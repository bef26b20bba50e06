'use strict';

// Reporter options, completed from the environment. The variable names are the ones the
// `playdeck upload` CLI reads, so one CI configuration serves both.

const UPLOAD_POLICIES = ['failures', 'all', 'none'];
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_RETRIES = 4;
const DEFAULT_LIVE_INTERVAL_MS = 5000;

function text(value) {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/**
 * The options the reporter works with, and the problems that stop it from sending anything.
 * Never throws: a reporter that throws in its constructor breaks the whole test run.
 */
function resolveOptions(raw = {}, env = process.env) {
  const problems = [];
  const options = {
    serverUrl: text(raw.serverUrl) || text(env.PLAYDECK_SERVER_URL),
    projectName: text(raw.projectName) || text(env.PLAYDECK_PROJECT),
    apiKey: text(raw.apiKey) || text(env.PLAYDECK_API_KEY),
    username: text(raw.username) || text(env.PLAYDECK_USERNAME),
    password: raw.password !== undefined ? String(raw.password) : env.PLAYDECK_PASSWORD,
    branch: text(raw.branch),
    commit: text(raw.commit),
    commitMessage: text(raw.commitMessage),
    author: text(raw.author),
    environment: text(raw.environment),
    runName: text(raw.runName),
    tags: [],
    uploadAttachments: text(raw.uploadAttachments) || 'failures',
    timeoutMs: DEFAULT_TIMEOUT_MS,
    retries: DEFAULT_RETRIES,
    strict: raw.strict === true,
    // Runs in parts (see lib/ci.js, lib/live.js): the CI build, this shard, streaming.
    runKey: text(raw.runKey) || text(env.PLAYDECK_RUN_KEY),
    shard: text(raw.shard) || text(env.PLAYDECK_SHARD),
    live: raw.live === true || ['1', 'true', 'yes'].includes(text(env.PLAYDECK_LIVE)),
    liveIntervalMs: DEFAULT_LIVE_INTERVAL_MS,
  };
  if (raw.liveIntervalMs !== undefined) {
    const ms = Number(raw.liveIntervalMs);
    if (Number.isFinite(ms) && ms > 0) options.liveIntervalMs = ms;
    else problems.push('liveIntervalMs must be a positive number');
  }

  if (raw.tags !== undefined) {
    const list = typeof raw.tags === 'string' ? raw.tags.split(',') : raw.tags;
    if (Array.isArray(list)) {
      options.tags = [...new Set(list.map(text).filter(Boolean))];
    } else {
      problems.push('tags must be an array of strings');
    }
  }
  if (!UPLOAD_POLICIES.includes(options.uploadAttachments)) {
    problems.push(
      `uploadAttachments must be one of ${UPLOAD_POLICIES.join(', ')} ` +
        `(got ${JSON.stringify(raw.uploadAttachments)})`,
    );
  }
  if (raw.timeoutMs !== undefined) {
    const ms = Number(raw.timeoutMs);
    if (Number.isFinite(ms) && ms > 0) options.timeoutMs = ms;
    else problems.push('timeoutMs must be a positive number');
  }
  const retries = raw.retries !== undefined ? raw.retries : text(env.PLAYDECK_UPLOAD_RETRIES);
  if (retries !== undefined) {
    const n = Number(retries);
    if (Number.isInteger(n) && n >= 0) options.retries = n;
    else problems.push('retries must be a whole number, 0 or more');
  }
  if (!options.serverUrl) {
    problems.push('serverUrl is not set (option serverUrl or PLAYDECK_SERVER_URL)');
  } else {
    try {
      const url = new URL(options.serverUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    } catch {
      problems.push(`serverUrl is not an http(s) URL: ${options.serverUrl}`);
    }
  }
  if (!options.projectName) {
    problems.push('projectName is not set (option projectName or PLAYDECK_PROJECT)');
  }
  if (!options.apiKey && options.username && !options.password) {
    problems.push('username is set without a password');
  }
  return { options, problems };
}

/** `path` under the server's base URL, keeping any path prefix the base has. */
function endpoint(serverUrl, path) {
  const base = serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`;
  return new URL(path.replace(/^\//, ''), base).toString();
}

module.exports = { resolveOptions, endpoint, UPLOAD_POLICIES, DEFAULT_TIMEOUT_MS };
