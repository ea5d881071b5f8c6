"""Where moto 5 breaks instead of answering as AWS does, made to answer as AWS does, for
the sandbox (the demo, the tests); never imported by a real run.

Asked to delete something that does not exist, these moto backends fail with a Python
error (a KeyError, an AttributeError on None) where AWS answers with an error code. Each
patch changes that case only: an unknown id gets the code AWS gives for it (the codes the
types' gone_codes name), and everything else goes to moto unchanged. ReleaseHosts and
CancelSpotFleetRequests answer AWS's per-id failures in the response instead; the types
handle both, and tests/test_ec2_network.py checks that shape with botocore's Stubber.

And what AWS deletes along with a subnet or a VPC, moto keeps: a deleted subnet's network
ACL association (so the ACL could never be deleted) and a deleted VPC's default ACL.
"""

import functools

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.hosts import HostsBackend
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.ec2.models.spot_requests import SpotRequestBackend
from moto.ec2.models.subnets import SubnetBackend
from moto.ec2.models.transit_gateway import TransitGatewayBackend
from moto.ec2.models.transit_gateway_attachments import TransitGatewayAttachmentBackend
from moto.ec2.models.vpcs import VPCBackend

# (backend class, method, the backend's dict of known ids, AWS's error code for an unknown id)
_UNKNOWN_ID_CODES = [
    (NatGatewayBackend, "delete_nat_gateway", "nat_gateways", "NatGatewayNotFound"),
    (SpotRequestBackend, "cancel_spot_instance_requests", "spot_instance_requests",
     "InvalidSpotInstanceRequestID.NotFound"),
    (SpotRequestBackend, "cancel_spot_fleet_requests", "spot_fleet_requests", "InvalidSpotFleetRequestId.NotFound"),
    (TransitGatewayBackend, "delete_transit_gateway", "transit_gateways", "InvalidTransitGatewayID.NotFound"),
    (TransitGatewayAttachmentBackend, "delete_transit_gateway_vpc_attachment", "transit_gateway_attachments",
     "InvalidTransitGatewayAttachmentID.NotFound"),
    (HostsBackend, "release_hosts", "hosts", "InvalidHostID.NotFound"),
]


def _refusing_unknown_ids(method, known: str, code: str):
    @functools.wraps(method)
    def checked(backend, *args, **kwargs):
        ids = args[0] if args else next(iter(kwargs.values()))  # the first parameter: one id, or a list
        for resource_id in [ids] if isinstance(ids, str) else ids:
            if resource_id not in getattr(backend, known):
                raise EC2ClientError(code, f"The ID '{resource_id}' does not exist")
        return method(backend, *args, **kwargs)
    return checked


def _dropping_acl_associations(delete_subnet):
    @functools.wraps(delete_subnet)
    def delete(backend, subnet_id):
        subnet = delete_subnet(backend, subnet_id)
        for acl in list(backend.network_acls.values()):
            for association_id, association in list(acl._associations.items()):
                if association.subnet_id == subnet_id:
                    del acl._associations[association_id]
        return subnet
    return delete


def _dropping_the_default_acl(delete_vpc):
    @functools.wraps(delete_vpc)
    def delete(backend, vpc_id):
        vpc = delete_vpc(backend, vpc_id)
        # list(): the server answers on many threads, and another request may change the ACLs meanwhile.
        for acl_id in [acl.id for acl in list(backend.network_acls.values()) if acl.vpc_id == vpc_id]:
            backend.network_acls.pop(acl_id, None)
        return vpc
    return delete


_patched = False


def patch() -> None:
    """Patch moto's classes, once per process (the sandbox server's, or the tests' in-process moto)."""
    global _patched
    if _patched:
        return
    for backend, name, known, code in _UNKNOWN_ID_CODES:
        setattr(backend, name, _refusing_unknown_ids(getattr(backend, name), known, code))
    SubnetBackend.delete_subnet = _dropping_acl_associations(SubnetBackend.delete_subnet)
    VPCBackend.delete_vpc = _dropping_the_default_acl(VPCBackend.delete_vpc)
    _patched = True
