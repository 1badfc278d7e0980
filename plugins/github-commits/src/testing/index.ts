/** The local GitHub for tests: `@tokenwise/plugin-github-commits/testing`. */
export { startLocalGithub, type LocalGithub } from './github-server';
export {
  deliverWebhook,
  mergedPullPayload,
  newFilePatch,
  signWebhookBody,
  type WebhookDeliveryAnswer,
} from './github-webhook-delivery';
export {
  fakeSha,
  type GithubCall,
  type GithubCommit,
  type GithubFault,
  type GithubPull,
  type GithubPullFile,
  type GithubPush,
  type GithubRepo,
  type GithubReview,
} from './github-state';
