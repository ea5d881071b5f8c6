"""AMIs owned by the account: deregistered before their snapshots can be deleted."""

from costcutter.registry import Subresource, deleted_by, listed

AMIS = Subresource(
    service="ec2", name="amis", client="ec2", after=("instances",),
    list=listed("describe_images", "Images", "ImageId", Owners=["self"]),
    delete=deleted_by("deregister_image", "ImageId"),
    gone_codes=frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"}),
)
catalog_amis, cleanup_ami, cleanup_amis = AMIS.functions()
