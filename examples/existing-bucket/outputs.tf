output "functions" {
  description = "Each team's function."
  value = {
    orders = module.orders.function_name
    clicks = module.clicks.function_name
  }
}

output "notification_ids" {
  description = "The notification configurations each pipeline added to the shared bucket."
  value = {
    orders = module.orders.notification_ids
    clicks = module.clicks.notification_ids
  }
}

output "backfilled_objects" {
  description = "Orders that were already in the bucket and were sent to the orders function."
  value       = module.orders.backfilled_objects
}
