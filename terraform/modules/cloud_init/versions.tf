terraform {
  # No providers: this module only renders cloud-init documents.
  required_version = ">= 1.9"
}
