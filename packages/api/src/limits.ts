/** Page sizes of every list procedure: 1..pageSizeMax rows. */
export const pageSizeMax = 100;
export const pageSizeDefault = 20;
export const modelNameLengthMax = 200;
export const cursorLengthMax = 300;
/** A settlement policy or price list sent through the API, as canonical JSON. */
export const documentBytesMax = 512 * 1024;
export const requestIdLengthMax = 200;
export const reasonLengthMax = 500;
export const grantIdLengthMax = 128;
/** Rows of lists that are not paginated (an org's teams, a team's members): larger orgs page elsewhere. */
export const teamsListMax = 1_000;
export const teamMembersMax = 1_000;
/** One plugin dry run, start to result: longer is reported as a timeout, never a hang. */
export const dryRunTimeoutMsDefault = 60_000;
/** Plugin ids follow the plugin-sdk's rule: at most 64 characters. */
export const pluginIdLengthMax = 64;
/** Plugin dry runs one user may start per minute (each may make charged LLM calls). */
export const dryRunsPerUserPerMinute = 10;
/** tRPC request bodies larger than this are refused before parsing (413, PAYLOAD_TOO_LARGE). */
export const bodyBytesMax = 1024 * 1024;
/**
 * The one procedure whose input is large by nature: an A/B result lists up to 100,000 assigned
 * users (about 2.5 MB of emails), so `POST /experiments.submitResults` alone (unbatched) takes as
 * much as the signed experiments webhook does.
 */
export const submitResultsBytesMax = 8 * 1024 * 1024;
export const submitResultsPath = '/experiments.submitResults';
