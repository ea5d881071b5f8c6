"""ECR repositories: their images are billed by the GB-month; deleted with every image in them (force).

Pull-through cache and replicated repositories are the account's own like any other, and
go the same way.
"""

import json
import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed

_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _seed(session, region, count):
    ecr = session.client("ecr", region_name=region)
    names = [f"cc-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for name in names:
        ecr.create_repository(repositoryName=name)
        manifest = {"schemaVersion": 2, "mediaType": _MANIFEST_TYPE, "config": {}, "layers": []}
        ecr.put_image(repositoryName=name, imageManifest=json.dumps(manifest), imageManifestMediaType=_MANIFEST_TYPE,
                      imageTag="latest")
    return names


REPOSITORIES = ResourceType(
    service="ecr", name="repositories", client="ecr", doc=__doc__,
    # DescribeRepositories carries no tags, and no image count (DescribeImages, per repository).
    list=listed("describe_repositories", "repositories", "repositoryName", name="repositoryName",
                created="createdAt", tags=None,
                properties={"uri": "repositoryUri", "tag_mutability": "imageTagMutability",
                            "encryption": "encryptionConfiguration.encryptionType"}),
    steps=deleted_by("delete_repository", "repositoryName", force=True),
    gone_codes=frozenset({"RepositoryNotFoundException"}),
    seed=_seed, missing_id="cc-no-such-repository",
)
catalog_repositories, cleanup_repository, cleanup_repositories = engine.functions(REPOSITORIES)
