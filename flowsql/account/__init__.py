"""The account side: setup (discovery, tables, provisioning, IAM, named queries) and inventory sync."""
