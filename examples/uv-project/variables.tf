variable "region" {
  description = "AWS region to create the pipeline in."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the pipeline."
  type        = string
  default     = "uv-service"
}

variable "require_tls" {
  description = "Deny non-TLS requests to the bucket. Keep true on AWS; the moto emulator treats the policy as a blanket deny, so the demo sets false."
  type        = bool
  default     = true
}
