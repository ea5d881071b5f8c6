"""KMS: customer managed keys and their aliases."""
