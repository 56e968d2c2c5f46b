import { decodeCommit, type EncodedJobEventCommit, type JobEventCommit } from '#contracts';

/** `subscribe` from `subscribeEncoded`: one read path for both. */
export async function* decodeEach(batches: AsyncIterable<EncodedJobEventCommit[]>): AsyncGenerator<JobEventCommit> {
  for await (const batch of batches) for (const commit of batch) yield decodeCommit(commit);
}
