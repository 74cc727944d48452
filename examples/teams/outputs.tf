output "buckets" {
  description = "Each team's bucket."
  value = {
    orders = module.orders.bucket_name
    clicks = module.clicks.bucket_name
  }
}

output "functions" {
  description = "Each team's function."
  value = {
    orders = module.orders.function_name
    clicks = module.clicks.function_name
  }
}
