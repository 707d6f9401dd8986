terraform {
  # No providers: terraform_data is built into Terraform.
  required_version = ">= 1.9"
}
