/** Commits applied in one transaction at most; more are applied in the next one. */
export const MAX_BATCH = 2_000;
