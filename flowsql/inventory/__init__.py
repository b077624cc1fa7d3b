"""The inventory: ENIs, subnets and VPCs that attribute traffic (documents, sync from AWS, upload)."""

from .documents import FILES, TABLES, Inventory, is_lambda_eni, load_inventory, rows_from_documents

__all__ = ["FILES", "TABLES", "Inventory", "is_lambda_eni", "load_inventory", "rows_from_documents"]
