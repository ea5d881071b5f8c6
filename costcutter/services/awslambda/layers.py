"""Lambda layers, one resource per layer: its teardown deletes every version, and the layer is gone with the last.

AWS has no call that deletes a layer: a layer exists while one of its versions does.
One resource per layer keeps the catalog at the size people think of (a layer with 40
published versions is one thing to clean, not 40), and the deletion lists the versions
afresh each time, so a resume after some were deleted simply deletes the rest. Functions
that use a version keep their copy of it, so nothing depends on the order.
"""

import uuid

import botocore.exceptions

from costcutter import aws, engine
from costcutter.registry import ResourceType, Step, listed, pages
from costcutter.services.awslambda.functions import handler_zip

_GONE = "ResourceNotFoundException"


def _versions(client, layer: str) -> list[int]:
    return [version["Version"] for page in pages(client, "list_layer_versions", LayerName=layer)
            for version in page["LayerVersions"]]


def _delete_versions(target, layer):
    versions = _versions(target.client, layer.id)
    if not versions:
        # Listing the versions of an unknown layer answers an empty list, not an error.
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": _GONE, "Message": f"layer {layer.id} has no versions left"}}, "ListLayerVersions")
    for version in versions:
        with aws.ignoring(_GONE):  # deleted meanwhile by someone else
            target.client.delete_layer_version(LayerName=layer.id, VersionNumber=version)
    return f"deleted versions {', '.join(map(str, sorted(versions)))}"


def _seed(session, region, count, versions=2):
    client = session.client("lambda", region_name=region)
    names = []
    for _ in range(count):
        name = f"costcutter-seed-{uuid.uuid4().hex[:12]}"
        for _ in range(versions):
            client.publish_layer_version(LayerName=name, Content={"ZipFile": handler_zip()},
                                         CompatibleRuntimes=["python3.12"])
        names.append(name)
    return names


LAYERS = ResourceType(
    service="lambda", name="layers", client="lambda", doc=__doc__,
    list=listed("list_layers", "Layers", "LayerName", name="LayerName", tags=None,
                created="LatestMatchingVersion.CreatedDate",
                properties={"latest_version": "LatestMatchingVersion.Version"}),
    steps=(Step("delete_layer_versions", _delete_versions),),
    gone_codes=frozenset({_GONE}),
    seed=_seed, missing_id="costcutter-no-such-layer",
)
catalog_layers, cleanup_layer, cleanup_layers = engine.functions(LAYERS)
