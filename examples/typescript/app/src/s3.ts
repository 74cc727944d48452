// The part of Lambda's S3 event this handler reads (no @types package
// needed: the shapes are small and stable).
export interface S3EventRecord {
  eventName: string;
  s3: {
    bucket: { name: string };
    object: { key: string; size?: number };
  };
}

export interface S3Event {
  Records: S3EventRecord[];
}

/** An object key as S3 sends it: URL-encoded, spaces as `+`. */
export function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}
