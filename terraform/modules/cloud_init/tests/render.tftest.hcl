# The cloud-init documents a VM boots with: user, keys, static address, DNS, stable MAC.

variables {
  environment = "lab"
  user        = "debian"
  authorized_keys = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBExampleExampleExampleExampleExampleExample admin@example",
  ]
  hosts = {
    node1 = { name = "node1", address = "10.20.0.10", fqdn = "node1.lab.example.net" }
    node2 = { name = "node2", address = "10.20.0.11", fqdn = "node2.lab.example.net" }
  }
  network = { prefix_length = 24, gateway = "10.20.0.1", dns_servers = ["10.20.0.2"], domain = "lab.example.net" }
}

run "user_data" {
  command = plan

  assert {
    condition     = startswith(output.hosts["node1"].user_data, "#cloud-config\n")
    error_message = "user-data must start with #cloud-config."
  }
  assert {
    condition     = yamldecode(output.hosts["node1"].user_data).users[0].name == "debian" && yamldecode(output.hosts["node1"].user_data).users[0].lock_passwd == true
    error_message = "The admin user must be created with a locked password."
  }
  assert {
    condition     = jsonencode(yamldecode(output.hosts["node1"].user_data).users[0].ssh_authorized_keys) == jsonencode(var.authorized_keys)
    error_message = "The SSH keys must be installed."
  }
  assert {
    condition     = yamldecode(output.hosts["node2"].user_data).fqdn == "node2.lab.example.net" && yamldecode(output.hosts["node2"].user_data).ssh_pwauth == false
    error_message = "Host name and SSH password login are wrong."
  }
  assert {
    condition     = yamldecode(output.hosts["node1"].meta_data)["instance-id"] == "lab-node1"
    error_message = "instance-id must be stable per environment and host."
  }
}

run "static_network" {
  command = plan

  assert {
    condition     = jsonencode(yamldecode(output.hosts["node2"].network_config).ethernets.primary.addresses) == jsonencode(["10.20.0.11/24"])
    error_message = "The static address with prefix is wrong."
  }
  assert {
    condition     = yamldecode(output.hosts["node2"].network_config).ethernets.primary.routes[0].via == "10.20.0.1"
    error_message = "The default route must use the gateway."
  }
  assert {
    condition     = jsonencode(yamldecode(output.hosts["node2"].network_config).ethernets.primary.nameservers) == jsonencode({ addresses = ["10.20.0.2"], search = ["lab.example.net"] })
    error_message = "DNS servers and search domain are wrong."
  }
  assert {
    condition     = yamldecode(output.hosts["node2"].network_config).ethernets.primary.match.macaddress == output.hosts["node2"].mac_address
    error_message = "The network config must match the interface by its MAC."
  }
  assert {
    condition     = can(regex("^52:54:00(:[0-9a-f]{2}){3}$", output.hosts["node1"].mac_address)) && output.hosts["node1"].mac_address != output.hosts["node2"].mac_address
    error_message = "MACs must be QEMU-style and differ per host."
  }
}

run "no_dns_servers" {
  command = plan

  variables {
    network = { prefix_length = 24, gateway = "10.20.0.1", dns_servers = [] }
  }

  assert {
    condition     = !contains(keys(yamldecode(output.hosts["node1"].network_config).ethernets.primary), "nameservers")
    error_message = "Without DNS servers no nameservers block is written."
  }
}

run "keys_required" {
  command         = plan
  expect_failures = [var.authorized_keys]

  variables {
    authorized_keys = []
  }
}

run "no_root_user" {
  command         = plan
  expect_failures = [var.user]

  variables {
    user = "root"
  }
}
