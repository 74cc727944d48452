terraform {
  required_providers {
    eventpipe = {
      source  = "eventpipe/eventpipe"
      version = ">= 0.2.0"
    }
  }
}

# Credentials come from the usual AWS sources: environment variables, the
# shared config and credentials files, SSO or an instance role.
provider "eventpipe" {
  region = "eu-west-1"

  default_tags = {
    managed_by  = "terraform"
    cost_center = "data-platform"
  }

  # Against a local emulator such as the moto server instead of AWS:
  # endpoint_url = "http://127.0.0.1:5000"
  # access_key   = "testing"
  # secret_key   = "testing"
}
