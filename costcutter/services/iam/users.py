"""IAM users: stripped of their password, keys, MFA devices, certificates, policies and group memberships, then deleted.

Each kind of thing a user holds goes in a step of its own, recorded, that reads what is
left with a list call and removes it, so a resume repeats only what had not finished. A
virtual MFA device is deactivated, then deleted; a hardware one can only be deactivated
(it is not the account's to delete). The user CostCutter runs as is never listed.
"""

from costcutter import aws, engine
from costcutter.registry import GLOBAL, ResourceType, Step, call, listed, pages
from costcutter.services.iam.entities import (GONE, RETRY, RunningIdentity, dropping_policies, removing, seed_name,
                                              sparing)

_USER = "UserName"


def _remove_mfa_devices(target, user):
    iam = target.client
    devices = [device for page in pages(iam, "list_mfa_devices", UserName=user.id) for device in page["MFADevices"]]
    for device in devices:
        serial = device["SerialNumber"]
        with aws.ignoring(*GONE):
            iam.deactivate_mfa_device(UserName=user.id, SerialNumber=serial)
        if _is_virtual(serial):
            with aws.ignoring(*GONE):
                iam.delete_virtual_mfa_device(SerialNumber=serial)
    return f"{len(devices)} removed"


def _is_virtual(serial: str) -> bool:
    # A virtual device's serial is its ARN (arn:aws:iam::123456789012:mfa/name); a
    # hardware or U2F device's is the serial printed on it, or another ARN form.
    return serial.startswith("arn:") and ":mfa/" in serial


def create_user(iam, prefix="costcutter-seed") -> str:
    iam.create_user(UserName=(name := seed_name(prefix)))
    return name


def _seed(session, region, count):
    """Users with what most users have: an access key, a password, an inline policy."""
    iam = session.client("iam", region_name=region)
    names = []
    for _ in range(count):
        name = create_user(iam)
        iam.create_access_key(UserName=name)
        iam.create_login_profile(UserName=name, Password="Seeded-Passw0rd!")
        iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=READ_ONLY_POLICY)
        names.append(name)
    return names


READ_ONLY_POLICY = ('{"Version": "2012-10-17", "Statement": '
                    '[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')

USERS = ResourceType(
    service="iam", name="users", client="iam", scope=GLOBAL, doc=__doc__,
    # IAM names are unique in the account and every call takes the name. ListUsers
    # returns no tags.
    list=sparing(RunningIdentity.users, listed(
        "list_users", "Users", "UserName", name="UserName", created="CreateDate", tags=None,
        properties={"path": "Path", "password_last_used": "PasswordLastUsed"})),
    steps=(
        call("delete_login_profile", _USER, step="delete_login_profile", done_codes=GONE),
        removing("delete_access_keys", "list_access_keys", "AccessKeyMetadata", "delete_access_key",
                 owner=_USER, item_params={"AccessKeyId": "AccessKeyId"}),
        Step("remove_mfa_devices", _remove_mfa_devices, done_codes=GONE),
        removing("delete_signing_certificates", "list_signing_certificates", "Certificates",
                 "delete_signing_certificate", owner=_USER, item_params={"CertificateId": "CertificateId"}),
        removing("delete_ssh_public_keys", "list_ssh_public_keys", "SSHPublicKeys", "delete_ssh_public_key",
                 owner=_USER, item_params={"SSHPublicKeyId": "SSHPublicKeyId"}),
        # Git credentials for CodeCommit, keys for Keyspaces and Bedrock. moto has no API
        # for them: the sandbox answers that a user has none (costcutter/sandbox.py), and
        # tests/test_global.py checks this step with botocore's Stubber.
        removing("delete_service_specific_credentials", "list_service_specific_credentials",
                 "ServiceSpecificCredentials", "delete_service_specific_credential", owner=_USER,
                 item_params={"ServiceSpecificCredentialId": "ServiceSpecificCredentialId"}),
        *dropping_policies("user"),
        removing("leave_groups", "list_groups_for_user", "Groups", "remove_user_from_group",
                 owner=_USER, item_params={"GroupName": "GroupName"}),
        call("delete_user", _USER),
    ),
    gone_codes=GONE, retry_codes=RETRY,
    seed=_seed, missing_id="costcutter-no-such-user",
)
catalog_users, cleanup_user, cleanup_users = engine.functions(USERS)
