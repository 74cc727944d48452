variable "region" {
  description = "AWS region to create the pipelines in."
  type        = string
  default     = "us-east-1"
}

variable "require_tls" {
  description = "Deny non-TLS requests to the buckets (keep true on AWS; false for the moto emulator)."
  type        = bool
  default     = true
}
