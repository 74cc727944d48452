// Clicks team: acknowledges each new batch.
export const handler = async (event) => {
  const keys = (event.Records ?? []).map((r) => r.s3.object.key);
  return { received: keys.length };
};
