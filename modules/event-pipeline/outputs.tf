output "bucket_name" {
  description = "Name of the pipeline's bucket."
  value       = eventpipe_event_pipeline.this.bucket_name
}

output "bucket_arn" {
  description = "ARN of the pipeline's bucket."
  value       = eventpipe_event_pipeline.this.bucket_arn
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = eventpipe_event_pipeline.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = eventpipe_event_pipeline.this.function_arn
}

output "role_name" {
  description = "Name of the function's execution role."
  value       = eventpipe_event_pipeline.this.role_name
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = eventpipe_event_pipeline.this.role_arn
}

output "policy_json" {
  description = "The exact inline IAM policy of the role."
  value       = eventpipe_event_pipeline.this.policy_json
}

output "source_code_hash" {
  description = "Hash of the packaged source, as planned."
  value       = eventpipe_event_pipeline.this.source_code_hash
}

output "notification_ids" {
  description = "Ids of the bucket notification configurations the pipeline owns, one per trigger (the main trigger first)."
  value       = eventpipe_event_pipeline.this.notification_ids
}

output "backfilled_objects" {
  description = "How many existing objects backfill has sent to the function so far."
  value       = eventpipe_event_pipeline.this.backfilled_objects
}

output "stream_arn" {
  description = "ARN of the Kinesis stream the function reads (null without `stream`)."
  value       = eventpipe_event_pipeline.this.stream_arn
}

output "stream_name" {
  description = "Name of that stream (null without `stream`)."
  value       = eventpipe_event_pipeline.this.stream_name
}

output "event_queue_arn" {
  description = "ARN of the queue S3 notifies with `delivery = \"queue\"` (null otherwise)."
  value       = eventpipe_event_pipeline.this.event_queue_arn
}

output "event_queue_url" {
  description = "URL of that queue (null otherwise)."
  value       = eventpipe_event_pipeline.this.event_queue_url
}
