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

module "cloud_init" {
  source = "../../modules/cloud_init"

  environment     = var.environment
  hosts           = module.plan.hosts
  network         = module.plan.network
  user            = var.ssh.user
  authorized_keys = var.ssh.authorized_keys
}

module "vms" {
  source = "../../modules/libvirt_hosts"

  name_prefix  = "${var.environment}-"
  hosts        = module.plan.hosts
  cloud_init   = module.cloud_init.hosts
  base_image   = var.base_image
  pool         = var.libvirt_pool
  network_name = var.libvirt_network
  bridge       = var.libvirt_bridge
}
