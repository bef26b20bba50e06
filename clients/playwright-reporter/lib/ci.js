'use strict';

// Which CI build and which shard of it this process is, from the CI system's variables: the
// JavaScript twin of Playdeck's `src/playdeck/kit/ci.py` (a test proves the tables agree).
// A run key names the whole build, so its jobs (shards, matrix entries) merge into one run.

const MAX_RUN_KEY_CHARS = 200;

const CI_SYSTEMS = [
  { name: 'github-actions', detect: ['GITHUB_ACTIONS'], build: ['GITHUB_REPOSITORY', 'GITHUB_RUN_ID'], shardIndex: null, shardTotal: null, indexBase: 1 },
  { name: 'gitlab', detect: ['GITLAB_CI'], build: ['CI_PROJECT_ID', 'CI_PIPELINE_ID'], shardIndex: 'CI_NODE_INDEX', shardTotal: 'CI_NODE_TOTAL', indexBase: 1 },
  { name: 'jenkins', detect: ['JENKINS_URL', 'JENKINS_HOME'], build: ['BUILD_TAG'], shardIndex: null, shardTotal: null, indexBase: 1 },
  { name: 'circleci', detect: ['CIRCLECI'], build: ['CIRCLE_WORKFLOW_ID'], shardIndex: 'CIRCLE_NODE_INDEX', shardTotal: 'CIRCLE_NODE_TOTAL', indexBase: 0 },
  { name: 'azure-pipelines', detect: ['TF_BUILD'], build: ['SYSTEM_COLLECTIONID', 'BUILD_BUILDID'], shardIndex: 'SYSTEM_JOBPOSITIONINPHASE', shardTotal: 'SYSTEM_TOTALJOBSINPHASE', indexBase: 1 },
  { name: 'buildkite', detect: ['BUILDKITE'], build: ['BUILDKITE_BUILD_ID'], shardIndex: 'BUILDKITE_PARALLEL_JOB', shardTotal: 'BUILDKITE_PARALLEL_JOB_COUNT', indexBase: 0 },
];

function value(env, name) {
  return typeof env[name] === 'string' ? env[name].trim() : '';
}

function ciSystem(env = process.env) {
  return (
    CI_SYSTEMS.find((system) =>
      system.detect.some((v) => value(env, v) !== '' && value(env, v) !== 'false'),
    ) || null
  );
}

/** `<system>:<build>` for this CI build, or undefined outside CI. */
function runKey(env = process.env) {
  const system = ciSystem(env);
  if (!system) return undefined;
  const parts = system.build.map((v) => value(env, v));
  if (!parts.every(Boolean)) return undefined;
  const key = `${system.name}:${parts.join('/')}`;
  if (key.length > MAX_RUN_KEY_CHARS || !/^[\x20-\x7e]+$/.test(key)) {
    const digest = require('node:crypto').createHash('sha256').update(key).digest('hex');
    return `${system.name}:sha256:${digest}`;
  }
  return key;
}

/** `"2/8"` when the CI system runs this job as one of several parallel ones. */
function shard(env = process.env) {
  const system = ciSystem(env);
  if (!system || !system.shardIndex || !system.shardTotal) return undefined;
  const index = value(env, system.shardIndex);
  const total = value(env, system.shardTotal);
  if (!/^\d+$/.test(index) || !/^\d+$/.test(total)) return undefined;
  const current = Number(index) - system.indexBase + 1;
  if (current < 1 || current > Number(total) || Number(total) < 2) return undefined;
  return `${current}/${Number(total)}`;
}

module.exports = { CI_SYSTEMS, ciSystem, runKey, shard };
