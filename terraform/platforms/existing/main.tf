module "plan" {
  source = "../../modules/cluster_plan"

  environment    = var.environment
  hosts          = var.hosts
  network        = var.network
  admin_cidrs    = var.admin_cidrs
  client_cidrs   = var.client_cidrs
  endpoint_cidrs = var.endpoint_cidrs
  ssh            = var.ssh
  ports_file     = var.ports_file
  platform_file  = var.platform_file
}

# The hosts exist already; Terraform only plans them. The rendered inventory is kept in the
# state, so `terraform plan` shows when the hosts.yml hand-off is out of date.
resource "terraform_data" "inventory" {
  input = module.plan.ansible_inventory
}
