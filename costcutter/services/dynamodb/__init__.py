"""DynamoDB: tables and their on-demand backups."""
