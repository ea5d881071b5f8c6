"""S3: buckets, emptied of every version, delete marker and unfinished upload, then deleted."""
