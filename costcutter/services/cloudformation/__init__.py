"""CloudFormation: stacks, which delete what they made."""
