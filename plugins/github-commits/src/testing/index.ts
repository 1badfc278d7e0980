/** The local GitHub for tests: `@tokenwise/plugin-github-commits/testing`. */
export { startLocalGithub, type LocalGithub } from './github-server';
export {
  fakeSha,
  type GithubCall,
  type GithubCommit,
  type GithubFault,
  type GithubPull,
  type GithubPullFile,
  type GithubRepo,
  type GithubReview,
} from './github-state';
