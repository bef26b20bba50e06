'use strict';

const { execFileSync } = require('node:child_process');

const GIT_TIMEOUT_MS = 2000;

function text(value) {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  return s === '' ? undefined : s;
}

function withoutRemote(branch) {
  // Jenkins' GIT_BRANCH names the remote-tracking branch: "origin/main".
  return branch ? branch.replace(/^(refs\/heads\/|origin\/|refs\/remotes\/origin\/)/, '') : branch;
}

function nameOnly(author) {
  // GitLab's CI_COMMIT_AUTHOR is "Name <email>".
  return author ? author.replace(/\s*<[^>]*>\s*$/, '') || author : author;
}

/** What the CI service tells about this build, from its environment variables. */
function detectCi(env = process.env) {
  if (env.GITHUB_ACTIONS === 'true') {
    const runUrl =
      env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined;
    return {
      ciProvider: 'github-actions',
      // GITHUB_HEAD_REF is the pull request's branch; GITHUB_REF_NAME there is "<n>/merge".
      branch: text(env.GITHUB_HEAD_REF) || text(env.GITHUB_REF_NAME),
      commit: text(env.GITHUB_SHA),
      author: text(env.GITHUB_ACTOR),
      buildNumber: text(env.GITHUB_RUN_NUMBER),
      buildUrl: runUrl,
    };
  }
  if (env.GITLAB_CI) {
    return {
      ciProvider: 'gitlab',
      branch:
        text(env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME) ||
        text(env.CI_COMMIT_BRANCH) ||
        text(env.CI_COMMIT_REF_NAME),
      commit: text(env.CI_COMMIT_SHA),
      commitMessage: text(env.CI_COMMIT_TITLE) || text(env.CI_COMMIT_MESSAGE),
      author: nameOnly(text(env.CI_COMMIT_AUTHOR)),
      buildNumber: text(env.CI_PIPELINE_IID) || text(env.CI_PIPELINE_ID),
      buildUrl: text(env.CI_PIPELINE_URL) || text(env.CI_JOB_URL),
    };
  }
  if (env.JENKINS_URL || env.JENKINS_HOME) {
    return {
      ciProvider: 'jenkins',
      branch: withoutRemote(
        text(env.CHANGE_BRANCH) || text(env.BRANCH_NAME) || text(env.GIT_BRANCH),
      ),
      commit: text(env.GIT_COMMIT),
      author: text(env.CHANGE_AUTHOR),
      buildNumber: text(env.BUILD_NUMBER),
      buildUrl: text(env.BUILD_URL),
    };
  }
  if (env.CIRCLECI === 'true') {
    return {
      ciProvider: 'circleci',
      branch: text(env.CIRCLE_BRANCH),
      commit: text(env.CIRCLE_SHA1),
      author: text(env.CIRCLE_USERNAME),
      buildNumber: text(env.CIRCLE_BUILD_NUM),
      buildUrl: text(env.CIRCLE_BUILD_URL),
    };
  }
  return {};
}

function git(args, cwd) {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      timeout: GIT_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'ignore'],
      windowsHide: true,
    });
  } catch {
    return undefined; // no git, not a checkout, or too slow: the run goes without
  }
}

/** Branch and last commit of the checkout at `cwd`, or nothing. Never throws. */
function detectGit(cwd) {
  const log = git(['log', '-1', '--format=%H%n%an%n%s'], cwd);
  if (!log) return {};
  const [commit, author, subject] = log.split('\n');
  const branch = text(git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd));
  return {
    // A detached checkout (common in CI) names no branch.
    branch: branch && branch !== 'HEAD' ? branch : undefined,
    commit: text(commit),
    author: text(author),
    commitMessage: text(subject),
  };
}

const RUN_FIELDS = ['branch', 'commit', 'commitMessage', 'author', 'ciProvider', 'buildNumber', 'buildUrl'];

/** Options first, then the CI's variables, then git; the first that knows a field wins. */
function runMetadata(options, { env = process.env, cwd = process.cwd(), useGit = true } = {}) {
  const ci = detectCi(env);
  const needsGit = RUN_FIELDS.some((f) => f !== 'ciProvider' && !options[f] && !ci[f]);
  const local = useGit && needsGit ? detectGit(cwd) : {};
  const out = {};
  for (const field of RUN_FIELDS) {
    const value = options[field] || ci[field] || local[field];
    if (value) out[field] = value;
  }
  return out;
}

module.exports = { detectCi, detectGit, runMetadata };
