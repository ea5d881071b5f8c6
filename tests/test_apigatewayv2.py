"""API Gateway v2 APIs: APIs another service manages are never listed."""

from datetime import datetime, timezone

from costcutter.services.apigatewayv2 import apis

REGION = "eu-west-1"


def api(api_id, **fields):
    return {"ApiId": api_id, "Name": api_id, "ProtocolType": "HTTP", "RouteSelectionExpression": "$request.method",
            "CreatedDate": datetime(2025, 1, 2, tzinfo=timezone.utc), **fields}


def test_apis_another_service_manages_are_not_listed(session, stubbed, make_reporter):
    # moto cannot make a managed API: the listing is AWS's, stubbed.
    stubbed(session, "apigatewayv2", REGION).add_response(
        "get_apis", {"Items": [api("ours1234", Tags={"team": "web"}), api("managed1", ApiGatewayManaged=True)]})

    [listed] = apis.catalog_apis(session, REGION, make_reporter(REGION))

    assert (listed.id, listed.tags, listed.created) == ("ours1234", {"team": "web"}, "2025-01-02T00:00:00+00:00")
