# Nine VMs on one Proxmox VE node, cloned from template 9000, on VLAN 30.
# Credentials: export PROXMOX_VE_API_TOKEN='terraform@pve!fdp=<uuid>' before terraform apply.
environment  = "pve"
admin_cidrs  = ["10.30.0.0/24"]
client_cidrs = ["10.40.0.0/16"]

network = {
  cidr        = "10.30.1.0/24"
  gateway     = "10.30.1.254"
  dns_servers = ["10.30.0.53"]
  domain      = "pve.example.net"
}

ssh = {
  user            = "debian"
  authorized_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithYourOwnPublicKeyReplaceWithYourOwn admin@example"]
}

proxmox_endpoint       = "https://pve1.example.net:8006/"
proxmox_node           = "pve1"
proxmox_template_vm_id = 9000
proxmox_vm_id_base     = 3100
proxmox_datastore      = "local-lvm"
proxmox_data_datastore = "data-zfs"
proxmox_vlan_id        = 30

hosts = [
  { name = "store1", roles = ["minio"], data_disks_gib = [500, 500] },
  { name = "store2", roles = ["minio"], data_disks_gib = [500, 500] },
  { name = "store3", roles = ["minio"], data_disks_gib = [500, 500] },
  { name = "store4", roles = ["minio"], data_disks_gib = [500, 500] },
  { name = "meta1", roles = ["metastore_db", "hive_metastore", "trino_coordinator"] },
  { name = "work1", roles = ["trino_worker", "flink_taskmanager", "kafka_controller", "kafka_broker"], cpus = 8, memory_mib = 40960 },
  { name = "work2", roles = ["trino_worker", "flink_taskmanager", "kafka_controller", "kafka_broker"], cpus = 8, memory_mib = 40960 },
  { name = "work3", roles = ["trino_worker", "flink_taskmanager", "kafka_controller", "kafka_broker", "flink_jobmanager"], cpus = 8, memory_mib = 45056 },
  { name = "ops1", roles = ["prometheus", "alertmanager", "grafana"] },
]
