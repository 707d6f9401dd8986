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

module "vms" {
  source = "../../modules/proxmox_hosts"

  name_prefix       = "${var.environment}-"
  environment       = var.environment
  hosts             = module.plan.hosts
  network           = module.plan.network
  user              = var.ssh.user
  authorized_keys   = var.ssh.authorized_keys
  node_name         = var.proxmox_node
  template_vm_id    = var.proxmox_template_vm_id
  vm_id_base        = var.proxmox_vm_id_base
  datastore_id      = var.proxmox_datastore
  data_datastore_id = var.proxmox_data_datastore
  bridge            = var.proxmox_bridge
  vlan_id           = var.proxmox_vlan_id
}
