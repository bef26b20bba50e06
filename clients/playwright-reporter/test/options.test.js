'use strict';

const assert = require('node:assert/strict');
const { test } = require('node:test');

const { detectCi, runMetadata } = require('../lib/metadata');
const { endpoint, resolveOptions } = require('../lib/options');

test('options fall back to the PLAYDECK_* variables the upload CLI reads', () => {
  const { options, problems } = resolveOptions(
    {},
    {
      PLAYDECK_SERVER_URL: 'https://playdeck.example',
      PLAYDECK_PROJECT: 'shop',
      PLAYDECK_API_KEY: 'pd_abc',
    },
  );
  assert.deepEqual(problems, []);
  assert.equal(options.serverUrl, 'https://playdeck.example');
  assert.equal(options.projectName, 'shop');
  assert.equal(options.apiKey, 'pd_abc');
  assert.equal(options.uploadAttachments, 'failures');
  assert.equal(options.strict, false);
});

test('explicit options win over the environment', () => {
  const { options } = resolveOptions(
    { serverUrl: 'http://a', projectName: 'p', apiKey: 'pd_option', tags: ['x', ' y ', 'x', ''] },
    { PLAYDECK_SERVER_URL: 'http://b', PLAYDECK_API_KEY: 'pd_env' },
  );
  assert.equal(options.serverUrl, 'http://a');
  assert.equal(options.apiKey, 'pd_option');
  assert.deepEqual(options.tags, ['x', 'y']);
});

test('missing or invalid options are reported, never thrown', () => {
  const { problems } = resolveOptions(
    { serverUrl: 'ftp://x', uploadAttachments: 'some', timeoutMs: -1, username: 'bob', tags: 5 },
    {},
  );
  assert.deepEqual(problems, [
    'tags must be an array of strings',
    'uploadAttachments must be one of failures, all, none (got "some")',
    'timeoutMs must be a positive number',
    'serverUrl is not an http(s) URL: ftp://x',
    'projectName is not set (option projectName or PLAYDECK_PROJECT)',
    'username is set without a password',
  ]);
  assert.match(resolveOptions({}, {}).problems[0], /^serverUrl is not set/);
});

test('endpoints keep a path prefix of the server URL', () => {
  assert.equal(endpoint('https://x.example/playdeck', '/api/test-runs/upload'), 'https://x.example/playdeck/api/test-runs/upload');
  assert.equal(endpoint('https://x.example/', '/api/auth/login'), 'https://x.example/api/auth/login');
});

test('GitHub Actions: the pull request branch, the run URL', () => {
  const ci = detectCi({
    GITHUB_ACTIONS: 'true',
    GITHUB_REF_NAME: '12/merge',
    GITHUB_HEAD_REF: 'feature/cart',
    GITHUB_SHA: 'abc123',
    GITHUB_ACTOR: 'octocat',
    GITHUB_RUN_NUMBER: '77',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_ID: '999',
  });
  assert.deepEqual(ci, {
    ciProvider: 'github-actions',
    branch: 'feature/cart',
    commit: 'abc123',
    author: 'octocat',
    buildNumber: '77',
    buildUrl: 'https://github.com/acme/shop/actions/runs/999',
  });
});

test('GitLab, Jenkins and CircleCI are recognised by their variables', () => {
  assert.deepEqual(
    detectCi({
      GITLAB_CI: 'true',
      CI_COMMIT_REF_NAME: 'main',
      CI_COMMIT_SHA: 'def456',
      CI_COMMIT_TITLE: 'Fix cart',
      CI_COMMIT_AUTHOR: 'Ada Lovelace <ada@example.com>',
      CI_PIPELINE_IID: '31',
      CI_PIPELINE_URL: 'https://gitlab.example/acme/shop/-/pipelines/5',
    }),
    {
      ciProvider: 'gitlab',
      branch: 'main',
      commit: 'def456',
      commitMessage: 'Fix cart',
      author: 'Ada Lovelace',
      buildNumber: '31',
      buildUrl: 'https://gitlab.example/acme/shop/-/pipelines/5',
    },
  );
  const jenkins = detectCi({ JENKINS_URL: 'https://ci/', GIT_BRANCH: 'origin/release', GIT_COMMIT: 'f00', BUILD_NUMBER: '128', BUILD_URL: 'https://ci/job/1/' });
  assert.equal(jenkins.ciProvider, 'jenkins');
  assert.equal(jenkins.branch, 'release');
  assert.equal(jenkins.buildNumber, '128');
  const circle = detectCi({ CIRCLECI: 'true', CIRCLE_BRANCH: 'dev', CIRCLE_SHA1: 'c1', CIRCLE_BUILD_NUM: '9', CIRCLE_BUILD_URL: 'https://circle/9' });
  assert.deepEqual([circle.ciProvider, circle.branch, circle.commit, circle.buildUrl], ['circleci', 'dev', 'c1', 'https://circle/9']);
  assert.deepEqual(detectCi({}), {});
});

test('options win over the CI, which wins over git; git failing costs nothing', () => {
  const env = { CIRCLECI: 'true', CIRCLE_BRANCH: 'dev', CIRCLE_SHA1: 'c1' };
  const meta = runMetadata({ branch: 'mine' }, { env, useGit: false });
  assert.deepEqual(meta, { branch: 'mine', commit: 'c1', ciProvider: 'circleci' });
  // A directory that is no git checkout: nothing found, nothing thrown.
  assert.deepEqual(runMetadata({}, { env: {}, cwd: '/' }), {});
});
