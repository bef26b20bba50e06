'use strict';

// The two HTTP calls: an optional login, then one multipart upload. Node's own fetch and
// FormData (Node >= 18); no dependencies.

const fs = require('node:fs');
const { endpoint } = require('./options');

const MAX_MESSAGE_CHARS = 300;

/** A failure worth one line of output; the message never holds a credential. */
class PlaydeckError extends Error {}

function oneLine(value) {
  const s = String(value).replace(/\s+/g, ' ').trim();
  return s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS - 1)}…` : s;
}

async function describeResponse(response) {
  let detail = '';
  try {
    const body = await response.text();
    try {
      const json = JSON.parse(body);
      detail = json.detail || json.title || json.message || '';
      if (typeof detail !== 'string') detail = JSON.stringify(detail);
    } catch {
      detail = body;
    }
  } catch {
    // the body could not be read: the status says enough
  }
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return oneLine(detail ? `${status}: ${detail}` : status);
}

function describeNetworkError(error, timeoutMs) {
  if (error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  }
  const cause = error && error.cause;
  const code = cause && (cause.code || cause.message);
  return oneLine(code ? `${error.message} (${code})` : String(error && error.message));
}

async function request(url, init, timeoutMs, what) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new PlaydeckError(`${what} failed: ${describeNetworkError(error, timeoutMs)}`);
  }
}

/** An access token for `username`/`password` from `POST /api/auth/login`. */
async function login(options) {
  const response = await request(
    endpoint(options.serverUrl, '/api/auth/login'),
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username: options.username, password: options.password }),
    },
    options.timeoutMs,
    'login',
  );
  if (!response.ok) throw new PlaydeckError(`login failed: ${await describeResponse(response)}`);
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!body || typeof body.access_token !== 'string' || !body.access_token) {
    throw new PlaydeckError('login failed: the server sent no access_token');
  }
  return body.access_token;
}

/** The `Authorization` header for the configured credential, if any. */
async function authorization(options) {
  if (options.apiKey) return `Bearer ${options.apiKey}`;
  if (options.username) return `Bearer ${await login(options)}`;
  return undefined;
}

/**
 * A Blob over a file. Node >= 19.8 reads it only while the request body streams; Node 18 has
 * no `fs.openAsBlob`, so there the file is read into memory, one part at a time.
 */
async function fileBlob(file, type) {
  if (typeof fs.openAsBlob === 'function') return fs.openAsBlob(file, { type });
  return new Blob([await fs.promises.readFile(file)], { type });
}

/**
 * `POST /api/test-runs/upload`: form `fields`, the report as part `file`, and each attachment
 * as a part `attachment` whose file name is the path the report uses for it.
 */
async function uploadRun({ options, fields, reportFile, parts }) {
  const auth = await authorization(options);
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== '') form.append(name, String(value));
  }
  form.append('file', await fileBlob(reportFile, 'application/json'), 'report.json');
  for (const part of parts) {
    form.append('attachment', await fileBlob(part.file, part.contentType), part.name);
  }
  const headers = { accept: 'application/json' };
  if (auth) headers.authorization = auth;
  const response = await request(
    endpoint(options.serverUrl, '/api/test-runs/upload'),
    { method: 'POST', headers, body: form },
    options.timeoutMs,
    'upload',
  );
  if (!response.ok) throw new PlaydeckError(`upload failed: ${await describeResponse(response)}`);
  try {
    return await response.json();
  } catch {
    return {};
  }
}

module.exports = { PlaydeckError, uploadRun, login, fileBlob };
