"""What every region process needs before its first call, done once: imported by the server
the region processes fork from (costcutter.region_server), while the run is
still being prepared, so a region process starts with boto3, every resource type and their
service models already loaded instead of reading them all again."""

import contextlib
import os

from costcutter import aws, orchestrator, region_server, registry  # noqa: F401  (what a region process runs)

# A failure here must not stop the server: a region process then loads what it needs itself.
with contextlib.suppress(Exception):
    registry.by_key()  # imports every type's module
    chosen = os.environ.get(region_server.SERVICES_VARIABLE)
    aws.load_models(chosen.split(",") if chosen else sorted({t.client for t in registry.resource_types()}))
