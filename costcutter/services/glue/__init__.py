"""Glue: ETL jobs, crawlers and Data Catalog databases."""
