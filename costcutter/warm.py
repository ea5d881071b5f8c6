"""What every region process needs before its first call, done once: imported by the server
the region processes fork from (costcutter.region_server), while the run is
still being prepared, so a region process starts with boto3, every resource type and their
service models already loaded instead of reading them all again."""

import contextlib
import gc

from costcutter import region_server

# A failure here must not stop the server: a region process then loads what it needs itself.
with contextlib.suppress(Exception):
    if not region_server.started_in_vain():
        from costcutter import aws, orchestrator, registry  # noqa: F401  (what a region process runs)

        types = registry.resource_types()  # imports every type's module, while the main process reads its configuration
        chosen = region_server.types_to_warm()
        aws.load_models(sorted({t.client for t in types if chosen is None or t.service in chosen or t.key in chosen}))

# What is loaded by now lives as long as the region processes forked from here: frozen, a
# collection in one of them never walks it (a full one took 0.15 s of CPU, and copied the
# pages it touched from this process: 45 MB), as gc.freeze's documentation advises before a fork.
gc.freeze()
