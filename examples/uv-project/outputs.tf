output "bucket_name" {
  description = "Upload files under incoming/ in this bucket."
  value       = module.service.bucket_name
}

output "function_name" {
  description = "The function processing each file."
  value       = module.service.function_name
}

output "source_code_hash" {
  description = "Covers the source, uv.lock and pyproject.toml, the runtime and the architecture."
  value       = module.service.source_code_hash
}
