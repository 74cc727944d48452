// Each new object under data/ is summarised: its bucket, key and size.
// `function.bundle = true` bundles this file and what it imports into one
// index.js (plus index.js.map), so the handler stays "src/index.handler".
import { decodeKey, type S3Event } from "./s3";

export interface Summary {
  bucket: string;
  key: string;
  bytes: number;
}

export interface Result {
  processed: number;
  objects: Summary[];
}

export const handler = async (event: S3Event): Promise<Result> => {
  const objects = event.Records.filter((r) => r.eventName.startsWith("ObjectCreated")).map(
    (r): Summary => ({
      bucket: r.s3.bucket.name,
      key: decodeKey(r.s3.object.key),
      bytes: r.s3.object.size ?? 0,
    }),
  );
  return { processed: objects.length, objects };
};
