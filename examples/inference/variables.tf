variable "region" {
  description = "AWS region to create the pipeline in."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the pipeline; also names its ECR repository."
  type        = string
  default     = "scoring"
}

variable "base_image" {
  description = "The image the function's layers are appended to. null: the AWS Lambda base image of the runtime (public.ecr.aws/lambda/python:3.13). Append @sha256:<digest> to pin it, so AWS's patches to the base show up only when you change the pin."
  type        = string
  default     = null
}

variable "require_tls" {
  description = "Deny non-TLS requests to the bucket. Keep true on AWS; the moto emulator treats the policy as a blanket deny, so tests set false."
  type        = bool
  default     = true
}
