# Runs only with the provider installed (mock_provider needs its schema): tests/terraform runs
# it when FDP_TF_PLUGIN_DIR points at a provider mirror and skips it otherwise.

mock_provider "proxmox" {}

variables {
  environment = "pve"
  admin_cidrs = ["10.30.0.0/24"]
  network     = { cidr = "10.30.1.0/24", gateway = "10.30.1.254", dns_servers = ["10.30.0.53"], domain = "pve.example.net" }
  ssh = {
    user            = "debian"
    authorized_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample admin@example"]
  }
  proxmox_endpoint       = "https://pve1.example.net:8006/"
  proxmox_node           = "pve1"
  proxmox_template_vm_id = 9000
  proxmox_vm_id_base     = 3100
  hosts = [
    { name = "a", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [40] },
    { name = "b", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [40] },
    { name = "c", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager", "prometheus"], data_disks_gib = [40] },
    { name = "d", roles = ["minio", "trino_worker", "flink_taskmanager"], data_disks_gib = [40] },
  ]
}

run "apply_with_mocked_proxmox" {
  command = apply

  assert {
    condition     = output.platform == "proxmox" && length(output.vms) == 4 && output.vms["b"].name == "pve-b"
    error_message = "One VM per host."
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).all.hosts["b"].ansible_host == "10.30.1.11"
    error_message = "The inventory must carry the static address set through cloud-init."
  }
}
