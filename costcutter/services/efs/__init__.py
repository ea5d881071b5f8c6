"""EFS: file systems, with their mount targets and access points."""
