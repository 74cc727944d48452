output "bucket_name" {
  description = "The bucket (derived from the name when not set)."
  value       = eventpipe_event_pipeline.clicks.bucket_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = eventpipe_event_pipeline.clicks.function_arn
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = eventpipe_event_pipeline.clicks.role_arn
}

output "policy_json" {
  description = "The role's inline policy."
  value       = eventpipe_event_pipeline.clicks.policy_json
}
