'use strict';

// The two HTTP calls: an optional login, then one multipart upload. Node's own fetch and
// FormData (Node >= 18); no dependencies.

const crypto = require('node:crypto');
const fs = require('node:fs');
const { endpoint } = require('./options');

const MAX_MESSAGE_CHARS = 300;
// Retried: a connection error or timeout, 502/503/504, and 429 when the server says when.
const RETRY_STATUSES = new Set([502, 503, 504]);
const RETRY_BASE_MS = 1000;
const RETRY_MAX_WAIT_MS = 30_000;
const RETRY_BUDGET_MS = 120_000;

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

function retryAfterMs(response) {
  const value = Number(response.headers.get('retry-after'));
  return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
}

/**
 * `send()` until it gives an answer worth keeping: transient failures are retried up to
 * `retries` times with exponential backoff and jitter (or the server's `Retry-After`), within a
 * two-minute budget, each retry announced through `say`. The request must be safe to repeat:
 * the upload sends one `Idempotency-Key` for every attempt.
 */
async function withRetries(send, { retries, say, sleep = (ms) => new Promise((r) => setTimeout(r, ms)) }) {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 1; ; attempt += 1) {
    let response;
    let reason;
    try {
      response = await send();
    } catch (error) {
      if (!(error instanceof PlaydeckError)) throw error;
      reason = error.message;
      if (attempt > retries) throw error;
    }
    let waitMs = Math.min(RETRY_MAX_WAIT_MS, RETRY_BASE_MS * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    if (response) {
      const hinted = retryAfterMs(response);
      const transient = RETRY_STATUSES.has(response.status) || (response.status === 429 && hinted !== undefined);
      if (!transient || attempt > retries) return response;
      reason = `HTTP ${response.status}`;
      if (hinted !== undefined) waitMs = Math.min(RETRY_MAX_WAIT_MS, hinted);
    }
    if (Date.now() + waitMs > deadline) {
      if (response) return response;
      throw new PlaydeckError(reason);
    }
    say(`attempt ${attempt} of ${retries + 1} failed (${reason}); retrying in ${(waitMs / 1000).toFixed(1)} s`);
    await sleep(waitMs);
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
async function uploadRun({ options, fields, reportFile, parts, say = () => {} }) {
  const auth = await authorization(options);
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== '') form.append(name, String(value));
  }
  form.append('file', await fileBlob(reportFile, 'application/json'), 'report.json');
  for (const part of parts) {
    form.append('attachment', await fileBlob(part.file, part.contentType), part.name);
  }
  // One key for every attempt: a retry of an upload the server did store answers that run.
  const headers = { accept: 'application/json', 'idempotency-key': crypto.randomUUID() };
  if (auth) headers.authorization = auth;
  const response = await withRetries(
    () =>
      request(
        endpoint(options.serverUrl, '/api/test-runs/upload'),
        { method: 'POST', headers, body: form },
        options.timeoutMs,
        'upload',
      ),
    { retries: options.retries, say },
  );
  if (!response.ok) throw new PlaydeckError(`upload failed: ${await describeResponse(response)}`);
  try {
    return await response.json();
  } catch {
    return {};
  }
}

module.exports = {
  PlaydeckError,
  authorization,
  describeResponse,
  fileBlob,
  login,
  request,
  uploadRun,
  withRetries,
};
