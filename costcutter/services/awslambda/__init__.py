"""Lambda (package `awslambda`, since `lambda` is a Python keyword): functions, layers and event source mappings."""
