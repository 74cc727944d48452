# A pipeline is imported by its name, the `name` it was created with.
terraform import eventpipe_event_pipeline.example orders-ingest

# A pipeline wired by hand is adopted by its function's name; the pipeline
# is then named after the function, so the configuration's `name` must be it.
terraform import eventpipe_event_pipeline.example adopt:orders-ingest
