output "bucket_name" {
  description = "Upload JSON events under events/ in this bucket."
  value       = module.events.bucket_name
}

output "function_name" {
  description = "The function processing each file."
  value       = module.events.function_name
}

output "policy_json" {
  description = "Everything the function may do."
  value       = module.events.policy_json
}

output "failure_queue_url" {
  description = "Files the function failed to process end up here, after Lambda's retries."
  value       = module.events.failure_queue_url
}

output "log_group_name" {
  description = "The function's logs, kept 30 days."
  value       = module.events.log_group_name
}
