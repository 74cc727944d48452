output "bucket_name" {
  description = "Upload JSON files under data/ in this bucket."
  value       = module.summaries.bucket_name
}

output "function_name" {
  description = "The function summarising each file."
  value       = module.summaries.function_name
}

output "source_code_hash" {
  description = "Changes with any input of the bundle: the .ts files, tsconfig.json, the lock."
  value       = module.summaries.source_code_hash
}
