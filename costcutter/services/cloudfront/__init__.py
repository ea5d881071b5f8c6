"""CloudFront: distributions, disabled, then deleted once CloudFront has deployed that."""
