"""The global types (IAM, Route 53, CloudFront), against moto in process: their multi-step
teardowns, what is never listed, resume between steps; and, against the moto server, that
a run over several regions cleans them once, as region `global`.

Where moto lacks an API (IAM service-specific credentials, zones another service made),
the step or listing is checked with botocore's Stubber on AWS's response shapes."""

import datetime
import types

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from costcutter import aws, engine, events, registry, sandbox
from costcutter.cli import cli
from costcutter.engine import Target
from costcutter.registry import GLOBAL_REGION, Resource
from costcutter.reporter import Reporter
from costcutter.services.cloudfront import distributions
from costcutter.services.iam import groups, instance_profiles, policies, roles, users
from costcutter.services.iam.users import READ_ONLY_POLICY
from costcutter.services.route53 import hosted_zones
from costcutter.store import EventStore

HOME = "us-east-1"  # where the global types' clients go


@pytest.fixture
def iam(aws_mock):
    return boto3.client("iam", region_name=HOME)


@pytest.fixture
def route53(aws_mock):
    return boto3.client("route53", region_name=HOME)


@pytest.fixture
def cloudfront(aws_mock):
    return boto3.client("cloudfront", region_name=HOME)


@pytest.fixture
def reporter(make_reporter):
    return make_reporter(GLOBAL_REGION)


def calls(session, service):
    """The operations the handlers' shared client makes, in order."""
    made = []
    aws.client(session, service, HOME).meta.events.register(
        f"before-call.{service}", lambda model, **_: made.append(model.name))
    return made


def teardown(reporter, resource_id):
    """The steps of one resource's teardown as the log has them, then its outcome."""
    return [(e["kind"], e["message"]) for e in reporter.events()
            if e["resource_id"] == resource_id and e["kind"] not in ("cataloged", "step_requested")]


def resumed(reporter, store, **context):
    """A reporter for the same run, carrying on from what the log shows, as a resume does."""
    return Reporter(reporter.writer, reporter.run_id, GLOBAL_REGION, threads=reporter.threads,
                    history=store.resource_states(reporter.run_id, GLOBAL_REGION),
                    steps=store.steps_done(reporter.run_id, GLOBAL_REGION), **context)


def certificate_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "costcutter test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


# IAM users


def test_a_user_with_keys_password_mfa_certificate_policies_and_groups_is_stripped_then_deleted(session, iam,
                                                                                                 reporter):
    user = users.create_user(iam, "alice")
    for _ in range(2):
        iam.create_access_key(UserName=user)
    iam.create_login_profile(UserName=user, Password="Passw0rd!-long-enough")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    iam.upload_signing_certificate(UserName=user, CertificateBody=certificate_pem())
    iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample alice")
    policy = policies.create_policy(iam)
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=READ_ONLY_POLICY)
    group_names = [groups.create_group(iam) for _ in range(2)]
    for group in group_names:
        iam.add_user_to_group(GroupName=group, UserName=user)

    assert users.cleanup_users(session, GLOBAL_REGION, reporter, dry_run=False) == {user: "deleted"}

    assert teardown(reporter, user) == [
        ("step_done", "delete_login_profile"), ("step_done", "delete_access_keys: 2 removed"),
        ("step_done", "remove_mfa_devices: 1 removed"), ("step_done", "delete_signing_certificates: 1 removed"),
        ("step_done", "delete_ssh_public_keys: 1 removed"),
        ("step_done", "delete_service_specific_credentials: 0 removed"),
        ("step_done", "detach_policies: 1 removed"), ("step_done", "delete_inline_policies: 1 removed"),
        ("step_done", "leave_groups: 2 removed"), ("delete_requested", None), ("deleted", None)]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == []
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []  # deactivated, then deleted
    assert iam.get_policy(PolicyArn=policy)["Policy"]["AttachmentCount"] == 0  # the policy is its own type's
    assert all(iam.get_group(GroupName=group)["Users"] == [] for group in group_names)


def test_a_resumed_user_teardown_starts_at_the_step_where_it_stopped(session, iam, make_reporter):
    user = users.create_user(iam)
    made = calls(session, "iam")
    # An earlier attempt of the run finished the first two steps, then was killed.
    key = ("iam", "users", user)
    reporter = make_reporter(GLOBAL_REGION, history={key: events.STEP_DONE},
                             steps={key: {"delete_login_profile", "delete_access_keys"}})

    assert users.cleanup_users(session, GLOBAL_REGION, reporter, dry_run=False) == {user: "deleted"}

    assert "DeleteLoginProfile" not in made and "ListAccessKeys" not in made
    assert made[1] == "ListMFADevices" and made[-1] == "DeleteUser"  # after the listing, the third step


def test_a_repeated_step_removes_only_what_is_left(session, iam):
    user = users.create_user(iam)
    keys = [iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"] for _ in range(2)]
    iam.delete_access_key(UserName=user, AccessKeyId=keys[0])  # the earlier attempt got this far
    [step] = [s for s in users.USERS.steps if s.name == "delete_access_keys"]

    assert step.call(Target(users.USERS, session, GLOBAL_REGION), Resource(user)) == "1 removed"
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == []


def test_service_specific_credentials_are_each_deleted_one_gone_meanwhile_counting_as_removed():
    # moto has no service-specific credentials: AWS's shapes, through Stubber.
    iam = boto3.client("iam", region_name=HOME)
    created = datetime.datetime(2025, 1, 2, tzinfo=datetime.timezone.utc)
    credentials = [{"UserName": "bob", "Status": "Active", "ServiceUserName": f"bob-at-12345678901{n}",
                    "CreateDate": created, "ServiceSpecificCredentialId": f"ACCAEXAMPLE{n}AAAAAAAA",
                    "ServiceName": "codecommit.amazonaws.com"} for n in range(2)]
    [step] = [s for s in users.USERS.steps if s.name == "delete_service_specific_credentials"]
    with Stubber(iam) as stub:
        stub.add_response("list_service_specific_credentials", {"ServiceSpecificCredentials": credentials},
                          {"UserName": "bob"})
        stub.add_response("delete_service_specific_credential", {},
                          {"UserName": "bob", "ServiceSpecificCredentialId": "ACCAEXAMPLE0AAAAAAAA"})
        stub.add_client_error("delete_service_specific_credential", "NoSuchEntity",
                              expected_params={"UserName": "bob", "ServiceSpecificCredentialId": "ACCAEXAMPLE1AAAAAAAA"})

        assert step.call(types.SimpleNamespace(client=iam), Resource("bob")) == "2 removed"
        stub.assert_no_pending_responses()


# IAM roles, instance profiles, groups, policies


def test_a_role_leaves_its_instance_profile_and_loses_its_policies_then_is_deleted(session, iam, reporter):
    role = roles.create_role(iam)
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName=role)
    policy = policies.create_policy(iam)
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=READ_ONLY_POLICY)

    assert roles.cleanup_roles(session, GLOBAL_REGION, reporter, dry_run=False) == {role: "deleted"}

    assert teardown(reporter, role) == [
        ("step_done", "leave_instance_profiles: 1 removed"), ("step_done", "detach_policies: 1 removed"),
        ("step_done", "delete_inline_policies: 1 removed"), ("delete_requested", None), ("deleted", None)]
    assert iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Roles"] == []


def test_service_linked_and_aws_reserved_roles_are_never_listed_nor_touched(session, iam, reporter):
    linked = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]["RoleName"]
    reserved = iam.create_role(RoleName="AWSReservedSSO_Admin_0123456789abcdef", Path="/aws-reserved/sso.amazonaws.com/",
                               AssumeRolePolicyDocument=roles.ASSUMED_BY_EC2)["Role"]["RoleName"]
    own = roles.create_role(iam)

    assert [r.id for r in roles.catalog_roles(session, GLOBAL_REGION, reporter)] == [own]
    roles.cleanup_roles(session, GLOBAL_REGION, reporter, dry_run=False)
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == sorted([linked, reserved])


def test_an_instance_profile_loses_its_role_then_is_deleted_and_the_role_stays(session, iam, reporter):
    [profile] = instance_profiles.INSTANCE_PROFILES.seed(session, HOME, 1)
    [role] = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]

    assert instance_profiles.cleanup_instance_profiles(session, GLOBAL_REGION, reporter, dry_run=False) == {
        profile: "deleted"}

    assert teardown(reporter, profile)[0] == ("step_done", "remove_roles: 1 removed")
    assert iam.list_instance_profiles()["InstanceProfiles"] == []
    assert iam.get_role(RoleName=role["RoleName"])  # roles are their own type


def test_a_group_loses_its_users_and_policies_then_is_deleted(session, iam, reporter):
    group = groups.create_group(iam)
    members = [users.create_user(iam) for _ in range(2)]
    for member in members:
        iam.add_user_to_group(GroupName=group, UserName=member)
    iam.attach_group_policy(GroupName=group, PolicyArn=policies.create_policy(iam))
    iam.put_group_policy(GroupName=group, PolicyName="inline", PolicyDocument=READ_ONLY_POLICY)

    assert groups.cleanup_groups(session, GLOBAL_REGION, reporter, dry_run=False) == {group: "deleted"}

    assert [message for kind, message in teardown(reporter, group) if kind == "step_done"] == [
        "remove_users: 2 removed", "detach_policies: 1 removed", "delete_inline_policies: 1 removed"]
    assert sorted(u["UserName"] for u in iam.list_users()["Users"]) == sorted(members)


def test_a_policy_with_several_versions_attached_everywhere_is_detached_and_its_versions_deleted_first(
        session, iam, reporter):
    policy = policies.create_policy(iam)
    for _ in range(3):
        iam.create_policy_version(PolicyArn=policy, PolicyDocument=READ_ONLY_POLICY, SetAsDefault=True)
    user, group, role = users.create_user(iam), groups.create_group(iam), roles.create_role(iam)
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    iam.attach_group_policy(GroupName=group, PolicyArn=policy)
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    made = calls(session, "iam")

    assert policies.cleanup_policies(session, GLOBAL_REGION, reporter, dry_run=False) == {policy: "deleted"}

    assert [message for kind, message in teardown(reporter, policy) if kind == "step_done"] == [
        "detach_from_users: 1 removed", "detach_from_groups: 1 removed", "detach_from_roles: 1 removed",
        "delete_other_versions: 3 removed"]
    assert made.count("DeletePolicyVersion") == 3 and made[-1] == "DeletePolicy"
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_aws_managed_policies_are_never_listed(session, iam, reporter):
    own = policies.create_policy(iam)
    assert [p.id for p in policies.catalog_policies(session, GLOBAL_REGION, reporter)] == [own]


def test_the_user_costcutter_runs_as_its_groups_and_policies_are_never_listed(iam, make_reporter):
    runner, other = users.create_user(iam, "ci"), users.create_user(iam)
    key = iam.create_access_key(UserName=runner)["AccessKey"]
    group, other_group = groups.create_group(iam), groups.create_group(iam)
    iam.add_user_to_group(GroupName=group, UserName=runner)
    own_policy, group_policy, other_policy = (policies.create_policy(iam) for _ in range(3))
    iam.attach_user_policy(UserName=runner, PolicyArn=own_policy)
    iam.attach_group_policy(GroupName=group, PolicyArn=group_policy)
    as_runner = boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                              aws_session_token=None, region_name=HOME)
    reporter = make_reporter(GLOBAL_REGION)

    for rtype in (users.USERS, groups.GROUPS, policies.POLICIES):
        engine.cleanup_all(rtype, as_runner, GLOBAL_REGION, reporter, dry_run=False)

    assert [u["UserName"] for u in iam.list_users()["Users"]] == [runner]
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == [group]
    assert sorted(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]) == sorted([own_policy, group_policy])
    assert {e["resource_id"] for e in reporter.events(events.DELETED)} == {other, other_group, other_policy}


def test_the_role_costcutter_runs_as_and_its_instance_profile_are_never_listed(iam, make_reporter):
    runner, other = roles.create_role(iam, "ci"), roles.create_role(iam)
    iam.create_instance_profile(InstanceProfileName="ci-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="ci-profile", RoleName=runner)
    arn = iam.get_role(RoleName=runner)["Role"]["Arn"]
    credentials = boto3.client("sts", region_name=HOME).assume_role(RoleArn=arn, RoleSessionName="sweep")["Credentials"]
    as_runner = boto3.Session(aws_access_key_id=credentials["AccessKeyId"], region_name=HOME,
                              aws_secret_access_key=credentials["SecretAccessKey"],
                              aws_session_token=credentials["SessionToken"])
    reporter = make_reporter(GLOBAL_REGION)

    for rtype in (instance_profiles.INSTANCE_PROFILES, roles.ROLES):
        engine.cleanup_all(rtype, as_runner, GLOBAL_REGION, reporter, dry_run=False)

    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == [runner]
    assert iam.get_instance_profile(InstanceProfileName="ci-profile")["InstanceProfile"]["Roles"][0]["RoleName"] == runner
    assert {e["resource_id"] for e in reporter.events(events.DELETED)} == {other}


# Route 53


def test_a_hosted_zone_with_many_records_is_emptied_in_batches_then_deleted(session, route53, reporter):
    zone = hosted_zones.create_zone(route53, records=1500)
    name = route53.get_hosted_zone(Id=zone)["HostedZone"]["Name"]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": f"team.{name}", "Type": "NS", "TTL": 300, "ResourceRecords": [{"Value": "ns-1.example.net."}]}}]})
    batches = []
    aws.client(session, "route53", HOME).meta.events.register(
        "provide-client-params.route-53.ChangeResourceRecordSets",
        lambda params, **_: batches.append(params["ChangeBatch"]["Changes"]))

    assert hosted_zones.cleanup_hosted_zones(session, GLOBAL_REGION, reporter, dry_run=False) == {zone: "deleted"}

    assert [len(batch) for batch in batches] == [1000, 501]
    deleted = [change["ResourceRecordSet"] for batch in batches for change in batch]
    assert all(change["Action"] == "DELETE" for batch in batches for change in batch)
    assert ("NS", f"team.{name}") in {(r["Type"], r["Name"]) for r in deleted}  # a delegation goes; the apex stays
    assert not [r for r in deleted if r["Name"] == name]
    assert teardown(reporter, zone)[0] == ("step_done", "delete_records: 1501 records deleted")
    assert route53.list_hosted_zones()["HostedZones"] == []


def test_a_private_hosted_zone_is_deleted_with_its_vpcs(session, route53, reporter):
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"] for n in range(2)]
    zone = hosted_zones.create_zone(route53, vpc={"VPCRegion": "eu-west-1", "VPCId": vpcs[0]})
    route53.associate_vpc_with_hosted_zone(HostedZoneId=zone, VPC={"VPCRegion": "eu-west-1", "VPCId": vpcs[1]})

    assert hosted_zones.cleanup_hosted_zones(session, GLOBAL_REGION, reporter, dry_run=False) == {zone: "deleted"}
    assert route53.list_hosted_zones()["HostedZones"] == []


def test_zones_another_service_runs_are_never_listed():
    # moto cannot make a zone for another service: AWS's shape, through Stubber.
    route53 = boto3.client("route53", region_name=HOME)
    zone = {"Id": "/hostedzone/Z1", "Name": "own.example.com.", "CallerReference": "a",
            "Config": {"PrivateZone": False}, "ResourceRecordSetCount": 2}
    cloud_map = {**zone, "Id": "/hostedzone/Z2", "Name": "services.local.",
                 "LinkedService": {"ServicePrincipal": "servicediscovery.amazonaws.com", "Description": "ns-1"}}
    target = types.SimpleNamespace(client=route53)
    with Stubber(route53) as stub:
        stub.add_response("list_hosted_zones", {"HostedZones": [zone, cloud_map], "Marker": "", "IsTruncated": False,
                                                "MaxItems": "100"})
        assert [(z.id, z.name) for z in hosted_zones.HOSTED_ZONES.list(target)] == [("Z1", "own.example.com.")]


@pytest.mark.parametrize("record_sets, sizes", [
    ([{"Name": f"{n}.", "ResourceRecords": [{"Value": "x"}]} for n in range(2500)], [1000, 1000, 500]),
    ([{"Name": f"{n}.", "ResourceRecords": [{"Value": "x"}] * 400} for n in range(5)], [2, 2, 1]),   # 1000 values
    ([{"Name": f"{n}.", "ResourceRecords": [{"Value": "x" * 4000}] * 3} for n in range(4)], [2, 2]),  # 32,000 chars
    ([{"Name": f"{n}.", "AliasTarget": {}} for n in range(1001)], [1000, 1]),  # aliases have no values
])
def test_record_batches_stay_within_what_one_request_accepts(record_sets, sizes):
    assert [len(batch) for batch in hosted_zones.batches(record_sets)] == sizes


# CloudFront


def test_an_enabled_distribution_is_disabled_then_deleted(session, cloudfront, reporter):
    distribution = distributions.create_distribution(cloudfront)
    made = calls(session, "cloudfront")

    assert distributions.cleanup_distributions(session, GLOBAL_REGION, reporter, dry_run=False) == {
        distribution: "deleted"}

    assert teardown(reporter, distribution) == [
        ("step_done", "disable: disabled; CloudFront deploys that before it can be deleted"),
        ("delete_requested", None), ("deleted", None)]
    assert made == ["ListDistributions", "GetDistributionConfig", "UpdateDistribution", "GetDistribution",
                    "DeleteDistribution"]
    assert cloudfront.list_distributions()["DistributionList"].get("Items") is None


@pytest.fixture
def deploying():
    """CloudFront keeps a distribution InProgress until the test says it is deployed."""
    from moto.moto_api import state_manager

    state_manager.set_transition("cloudfront::distribution", {"progression": "manual", "times": 10_000})
    yield lambda: state_manager.set_transition("cloudfront::distribution", {"progression": "immediate"})
    state_manager.unset_transition("cloudfront::distribution")


def test_a_distribution_still_deploying_fails_after_wait_timeout_and_a_later_run_deletes_it(
        session, cloudfront, make_reporter, store, deploying):
    distribution = distributions.create_distribution(cloudfront)
    reporter = make_reporter(GLOBAL_REGION, wait_timeout=2)

    assert distributions.cleanup_distributions(session, GLOBAL_REGION, reporter, dry_run=False) == {
        distribution: "failed"}
    [failure] = reporter.events(events.FAILED)
    assert failure["error_code"] == "DistributionNotDisabled"
    assert "still deploying" in failure["message"] and "a later run will finish it" in failure["message"]

    deploying()  # CloudFront has deployed the disabled distribution by the time of the next run
    made = calls(session, "cloudfront")
    later = resumed(reporter, store)
    assert distributions.cleanup_distributions(session, GLOBAL_REGION, later, dry_run=False) == {
        distribution: "deleted"}
    # The listing shows it disabled, and the log the disable done: either way it is not repeated.
    assert "UpdateDistribution" not in made and made[-1] == "DeleteDistribution"


def test_a_distribution_disabled_already_is_deleted_without_an_update(session, cloudfront, reporter):
    distribution = distributions.create_distribution(cloudfront)
    answer = cloudfront.get_distribution_config(Id=distribution)
    cloudfront.update_distribution(Id=distribution, IfMatch=answer["ETag"],
                                   DistributionConfig={**answer["DistributionConfig"], "Enabled": False})
    listing_tells = "Enabled" in cloudfront.list_distributions()["DistributionList"]["Items"][0]
    made = calls(session, "cloudfront")

    assert distributions.cleanup_distributions(session, GLOBAL_REGION, reporter, dry_run=False) == {
        distribution: "deleted"}
    assert "UpdateDistribution" not in made
    # AWS's listing says Enabled, and then the step is not even needed; older moto leaves it
    # out, and the step, not knowing, reads the distribution and finds it disabled.
    first = teardown(reporter, distribution)[0]
    assert first == (("delete_requested", None) if listing_tells else ("step_done", "disable: disabled already"))


def test_the_disable_step_is_not_needed_when_the_listing_shows_the_distribution_disabled():
    [disable, _] = distributions.DISTRIBUTIONS.steps
    assert not disable.needed_for(Resource("E1", raw={"Enabled": False}))
    assert disable.needed_for(Resource("E1", raw={"Enabled": True})) and disable.needed_for(Resource("E1"))


# A run over several regions, against the moto server


def test_a_run_over_two_regions_cleans_iam_once_as_region_global(sandbox_endpoint, db_path):
    seeded = sandbox.seed(GLOBAL_REGION, counts={"iam.users": 3}, default_count=0)["iam.users"]

    result = CliRunner().invoke(cli, ["run", "--db", str(db_path), "--no-dry-run", "--yes", "--region", "us-east-1",
                                      "--region", "eu-west-1", "--service", "iam"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    with EventStore(db_path) as store:
        [run] = store.runs()
        recorded = [e for e in store.events(run["id"]) if e["service"] == "iam"]
    assert {e["region"] for e in recorded} == {GLOBAL_REGION}
    deleted_users = [e["resource_id"] for e in recorded if e["kind"] == events.DELETED and e["resource_type"] == "users"]
    assert sorted(deleted_users) == sorted(seeded)  # each exactly once
    requested = [e["resource_id"] for e in recorded if e["kind"] == events.DELETE_REQUESTED
                 and e["resource_type"] == "users"]
    assert sorted(requested) == sorted(seeded)
    assert sum(e["kind"] == events.UNIT_COMPLETED for e in recorded) == len(
        [t for t in registry.resource_types() if t.service == "iam"])
    assert sandbox.inventory(GLOBAL_REGION)["iam.users"] == []


def test_a_policy_the_listing_shows_unattached_is_deleted_without_asking_what_it_is_attached_to(
        session, iam, reporter):
    policy = policies.create_policy(iam)
    made = calls(session, "iam")
    assert policies.cleanup_policies(session, GLOBAL_REGION, reporter, dry_run=False) == {policy: "deleted"}
    assert "ListEntitiesForPolicy" not in made


def test_the_iam_types_ask_sts_who_runs_them_once(session, iam, reporter):
    iam.create_user(UserName="left-behind")
    iam.create_role(RoleName="left-behind", AssumeRolePolicyDocument="{}")
    asked = calls(session, "sts")
    for rtype in (users.USERS, roles.ROLES, groups.GROUPS, policies.POLICIES, instance_profiles.INSTANCE_PROFILES):
        engine.cleanup_all(rtype, session, GLOBAL_REGION, reporter, dry_run=True)
    assert asked == ["GetCallerIdentity"]


def test_the_global_job_has_a_process_of_its_own_beside_max_processes_regions(sandbox_endpoint, db_path, tmp_path):
    """With one region at a time, IAM still runs beside the first region, not after the last:
    in a region's process it would hold back the regions queued behind it."""
    config = tmp_path / "one-at-a-time.yaml"
    config.write_text("max_processes: 1\n")

    result = CliRunner().invoke(cli, ["run", "--db", str(db_path), "--config", str(config), "--region", "us-east-1",
                                      "--region", "eu-west-1", "--service", "iam", "--service", "ec2.key_pairs"],
                                catch_exceptions=False)

    assert result.exit_code == 0, result.output
    with EventStore(db_path) as store:
        [run] = store.runs()
        pids = {}
        for event in store.events(run["id"]):
            if event["region"]:
                pids.setdefault(event["region"], set()).add(event["pid"])
    assert pids[GLOBAL_REGION].isdisjoint(pids["us-east-1"])
