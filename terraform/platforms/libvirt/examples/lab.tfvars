# Five VMs on one KVM host, on libvirt's NAT network "default" (192.168.122.0/24). cloud-init
# sets static addresses from .201 on: first shrink the network's DHCP range below .200
# (virsh net-edit default) so that no lease can collide with them.
environment = "kvm"
admin_cidrs = ["192.168.122.0/24"]

network = {
  cidr             = "192.168.122.0/24"
  first_host_index = 201
  dns_servers      = ["192.168.122.1"]
}

ssh = {
  user            = "debian"
  authorized_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithYourOwnPublicKeyReplaceWithYourOwn admin@example"]
}

libvirt_uri = "qemu:///system"
base_image  = "/var/lib/libvirt/images/debian-12-genericcloud-amd64.qcow2"

hosts = [
  { name = "kvm1", roles = ["minio", "kafka_controller", "kafka_broker", "metastore_db", "hive_metastore", "trino_coordinator"], cpus = 4, memory_mib = 16384, data_disks_gib = [40] },
  { name = "kvm2", roles = ["minio", "kafka_controller", "kafka_broker", "trino_worker"], cpus = 4, memory_mib = 16384, data_disks_gib = [40] },
  { name = "kvm3", roles = ["minio", "kafka_controller", "kafka_broker", "flink_jobmanager"], cpus = 4, memory_mib = 16384, data_disks_gib = [40] },
  { name = "kvm4", roles = ["minio", "flink_taskmanager"], cpus = 4, memory_mib = 8192, data_disks_gib = [40] },
  { name = "kvm5", roles = ["prometheus", "alertmanager", "grafana"], cpus = 2, memory_mib = 6144 },
]
