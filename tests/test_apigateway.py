"""API Gateway REST APIs: what moto gets wrong, checked with botocore's Stubber on AWS's answers."""

from costcutter.services.apigateway import rest_apis

REGION = "eu-west-1"


def test_an_unknown_api_is_already_gone(session, stubbed, make_reporter):
    # moto answers this with a KeyError (a 500); AWS with NotFoundException.
    reporter = make_reporter(REGION)
    stubbed(session, "apigateway", REGION).add_client_error(
        "delete_rest_api", "NotFoundException", "Invalid API identifier specified", 404,
        expected_params={"restApiId": "a1b2c3d4e5"})

    assert rest_apis.cleanup_rest_api(session, REGION, "a1b2c3d4e5", reporter, False) == "already_gone"


def test_the_one_deletion_per_30_seconds_limit_is_waited_out(session, stubbed, make_reporter):
    reporter = make_reporter(REGION)
    stubber = stubbed(session, "apigateway", REGION)
    stubber.add_client_error("delete_rest_api", "TooManyRequestsException", "Too Many Requests", 429)
    stubber.add_response("delete_rest_api", {}, {"restApiId": "a1b2c3d4e5"})

    assert rest_apis.cleanup_rest_api(session, REGION, "a1b2c3d4e5", reporter, False) == "deleted"
    assert not reporter.events("failed")
