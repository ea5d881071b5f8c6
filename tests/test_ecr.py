"""ECR's quirk, against moto in process: a repository that holds images is deleted with them."""

import boto3
import pytest

from costcutter.services.ecr import repositories

REGION = "eu-west-1"


def test_a_repository_holding_images_is_deleted_with_them(session, make_reporter):
    [name] = repositories.REPOSITORIES.seed(session, REGION, 1)
    ecr = boto3.client("ecr", region_name=REGION)
    assert ecr.list_images(repositoryName=name)["imageIds"]
    with pytest.raises(ecr.exceptions.RepositoryNotEmptyException):  # what a deletion without force meets
        ecr.delete_repository(repositoryName=name)
    reporter = make_reporter(REGION)
    assert repositories.cleanup_repositories(session, REGION, reporter, dry_run=False) == {name: "deleted"}
    assert ecr.describe_repositories()["repositories"] == []
