variable "deploy_access_key_id" {
  description = "Left here 'temporarily' in 2021."
  default     = "AKIAI44QH8DHBEXAMPLE"
}

variable "deploy_secret_access_key" {
  description = "Supplied by the pipeline."
  type        = string
  sensitive   = true
}

locals {
  legacy_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" # CKV_KEYLESS_4 where it lands (legacy_worker user data)
}
