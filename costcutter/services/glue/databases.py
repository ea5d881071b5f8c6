"""Glue Data Catalog databases other than `default`, with their tables, once the crawlers that fill them are gone: deleted."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed, seed_names


def _seed(session, region, count):
    glue = session.client("glue", region_name=region)

    def create(name):
        glue.create_database(DatabaseInput={"Name": name})
        glue.create_table(DatabaseName=name, TableInput={"Name": "events"})
    return seed_names(count, create, prefix="costcutter_seed_")


DATABASES = ResourceType(
    service="glue", name="databases", client="glue", depends_on=("crawlers",), doc=__doc__,
    # `default` is made by AWS (Athena, Lake Formation) and made again when missing.
    list=listed("get_databases", "DatabaseList", "Name", name="Name", created="CreateTime", tags=None,
                keep=lambda database: database["Name"] != "default"),
    steps=deleted_by("delete_database", "Name"),
    gone_codes=frozenset({"EntityNotFoundException"}),
    retry_codes=frozenset({"ConcurrentModificationException"}),
    seed=_seed, missing_id="costcutter_no_such_database",
)
catalog_databases, cleanup_database, cleanup_databases = engine.functions(DATABASES)
