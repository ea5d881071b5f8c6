"""Elastic Beanstalk: environments and applications."""
