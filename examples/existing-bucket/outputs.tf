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

output "key_grants" {
  description = "The statements on the bucket's KMS key in each team's policy, by Sid: the plan read the bucket's default encryption and granted its key (by ARN, the alias resolved)."
  value = {
    orders = { for s in jsondecode(module.orders.policy_json).Statement : s.Sid => s.Resource if length(regexall("crypt", s.Sid)) > 0 }
    clicks = { for s in jsondecode(module.clicks.policy_json).Statement : s.Sid => s.Resource if length(regexall("crypt", s.Sid)) > 0 }
  }
}
