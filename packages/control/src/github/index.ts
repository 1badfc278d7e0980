export {
  fetchTokenUser,
  githubRequestTimeoutMsDefault,
  GithubUnavailableError,
  pollDeviceToken,
  requestDeviceCode,
  type GithubEndpoints,
} from './github-oauth';
export {
  pollGithubLink,
  startGithubLink,
  type GithubLinkConfig,
  type GithubLinkPoll,
  type StartedGithubLink,
} from './github-link';
export { githubConfigFromEnv, type GithubConfig } from './github-config';
