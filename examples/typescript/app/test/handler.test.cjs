// Runs the handler bundled the way the function is (esbuild, CommonJS),
// after `tsc --noEmit` has type-checked src/: `pnpm test`.
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const bundle = process.env.BUNDLE || path.join(__dirname, "..", ".test", "index.js");
const { handler } = require(bundle);

const record = (eventName, key, size) => ({
  eventName,
  s3: { bucket: { name: "orders" }, object: { key, size } },
});

test("summarises each created object", async () => {
  const result = await handler({
    Records: [record("ObjectCreated:Put", "data/day+1.json", 42)],
  });
  assert.deepEqual(result, {
    processed: 1,
    objects: [{ bucket: "orders", key: "data/day 1.json", bytes: 42 }],
  });
});

test("ignores other events", async () => {
  const result = await handler({
    Records: [record("ObjectRemoved:Delete", "data/old.json")],
  });
  assert.deepEqual(result, { processed: 0, objects: [] });
});
