# Runs only with the provider installed (mock_provider needs its schema): tests/terraform runs
# it when FDP_TF_PLUGIN_DIR points at a provider mirror and skips it otherwise.

mock_provider "libvirt" {
  mock_resource "libvirt_volume" {
    defaults = {
      path = "/var/lib/libvirt/images/mock.qcow2"
    }
  }
  mock_resource "libvirt_cloudinit_disk" {
    defaults = {
      path = "/var/lib/libvirt/images/mock-cloudinit.iso"
    }
  }
}

variables {
  environment = "kvm"
  admin_cidrs = ["192.168.122.0/24"]
  network     = { cidr = "192.168.122.0/24", first_host_index = 201, dns_servers = ["192.168.122.1"] }
  ssh = {
    user            = "debian"
    authorized_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample admin@example"]
  }
  base_image = "/var/lib/libvirt/images/debian-12-genericcloud-amd64.qcow2"
  hosts = [
    { name = "kvm1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore"], data_disks_gib = [40] },
    { name = "kvm2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_coordinator"], data_disks_gib = [40] },
    { name = "kvm3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager", "prometheus"], data_disks_gib = [40] },
    { name = "kvm4", roles = ["minio", "trino_worker", "flink_taskmanager"], data_disks_gib = [40] },
  ]
}

run "apply_with_mocked_libvirt" {
  command = apply

  assert {
    condition     = output.platform == "libvirt" && length(output.vms) == 4
    error_message = "One domain per host."
  }
  assert {
    condition     = output.vms["kvm2"].name == "kvm-kvm2" && jsonencode(output.vms["kvm2"].data_volumes) == jsonencode(["kvm-kvm2-data0.qcow2"])
    error_message = "Domain and volume names are wrong."
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).all.hosts["kvm3"].ansible_host == "192.168.122.203"
    error_message = "The inventory must carry the static addresses that cloud-init configures."
  }
}
