"""The server's administration (WHM): privileges (ACLs), packages, resellers, provisioning and single sign-on."""
