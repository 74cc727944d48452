# A pipeline is imported by its name, the `name` it was created with.
terraform import eventpipe_event_pipeline.example orders-ingest
