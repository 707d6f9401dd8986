terraform {
  # Cross-variable validation needs 1.9 (OpenTofu 1.9 accepts the same configuration).
  # No providers: this module only computes.
  required_version = ">= 1.9"
}
