output "vms" {
  description = "Per host: the Proxmox VM id, name and node."
  value = {
    for name, vm in proxmox_virtual_environment_vm.this : name => {
      vm_id     = vm.vm_id
      name      = vm.name
      node_name = vm.node_name
    }
  }
}
