"""CostCutter: find the AWS resources that cost money and delete them, resumably."""

__version__ = "0.1.0"
