"""ALB request routing as the grader evaluates it (no emulator needed)."""

from labapp.grading.albrouting import Request, path_matches, route


def test_path_patterns_use_elb_wildcards_case_sensitively():
    assert path_matches("/api/*", "/api/orders") and path_matches("/api/*", "/api/")
    assert not path_matches("/api/*", "/api") and not path_matches("/API/*", "/api/orders")
    assert path_matches("/img/?.png", "/img/a.png") and not path_matches("/img/?.png", "/img/ab.png")
    assert not path_matches("/a.b", "/axb") and not path_matches("/a[b]", "/ab")  # only * and ? are special
    assert path_matches("/api/*", "/api/orders?page=2")  # the query string is not part of the path


def fwd(arn, order=None):
    return {"Type": "forward", "TargetGroupArn": arn, **({"Order": order} if order else {})}


def test_lowest_priority_number_wins_and_the_default_catches_the_rest():
    rules = [{"Priority": "10", "Conditions": [{"Field": "path-pattern", "Values": ["/api/*"]}], "Actions": [fwd("api")]},
             {"Priority": "2", "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}], "Actions": [fwd("web")]},
             {"Priority": "default", "IsDefault": True, "Conditions": [], "Actions": [fwd("other")]}]
    assert route(rules, [fwd("default")], Request("/api/x")).receivers == {"web"}
    assert route(rules[:1], [fwd("default")], Request("/shop")).receivers == {"default"}


def test_the_terminal_action_comes_after_authentication():
    actions = [fwd("api", order=2), {"Type": "authenticate-oidc", "Order": 1}]
    r = route([{"Priority": "1", "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}], "Actions": actions}],
              [], Request("/"))
    assert r.only_to("api")


def test_headers_and_query_strings_never_match_a_plain_request():
    rule = {"Priority": "1", "Actions": [fwd("api")], "Conditions": [
        {"Field": "path-pattern", "Values": ["/*"]},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Api", "Values": ["1"]}}]}
    assert route([rule], [fwd("web")], Request("/api")).only_to("web")
