terraform {
  required_version = ">= 1.0"

  required_providers {
    eventpipe = {
      source  = "eventpipe/eventpipe"
      version = ">= 0.2.0"
    }
  }
}
