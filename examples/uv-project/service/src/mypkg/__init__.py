"""An S3-triggered service packaged from its own project (src/ layout)."""
