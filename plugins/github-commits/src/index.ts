/**
 * Commit linkage (issue #16): scoring plugin, not built yet. `./testing` holds the local GitHub
 * REST server that its tests drive with the real @octokit/rest.
 */
export {};
