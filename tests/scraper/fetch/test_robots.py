"""robots.txt parsing and matching, including the RFC 9309 edge cases."""

from __future__ import annotations

import pytest

from gpuscout.scraper.fetch.robots import (
    MAX_ROBOTS_BYTES,
    RobotsRules,
    normalize_path,
    parse_robots,
    product_token,
)

UA = "gpuscout/0.1 (+https://github.com/gpuscout/gpuscout; used-GPU price watcher)"


def allowed(robots: str, path: str, ua: str = UA) -> bool:
    return parse_robots(robots, ua).is_allowed(path)


def test_product_token_is_the_name_before_the_version() -> None:
    assert product_token(UA) == "gpuscout"
    assert product_token("Mozilla/5.0 (X11)") == "mozilla"
    assert product_token("") == ""


def test_disallow_and_allow_by_prefix() -> None:
    robots = "User-agent: *\nDisallow: /sch/\nAllow: /sch/i.html\n"
    assert not allowed(robots, "/sch/foo")
    assert allowed(robots, "/sch/i.html?_nkw=rtx+3090")
    assert allowed(robots, "/itm/123")
    assert allowed(robots, "https://www.ebay.com/b/Graphics-Cards/27386")


def test_longest_match_wins_whatever_the_order() -> None:
    robots = "User-agent: *\nAllow: /p\nDisallow: /page\n"
    assert not allowed(robots, "/page")
    assert allowed(robots, "/pa")
    robots = "User-agent: *\nDisallow: /page\nAllow: /page/public\n"
    assert allowed(robots, "/page/public/1")
    assert not allowed(robots, "/page/private")


def test_allow_wins_a_tie() -> None:
    robots = "User-agent: *\nDisallow: /folder\nAllow: /folder\n"
    assert allowed(robots, "/folder/x")


def test_wildcards_and_end_anchor() -> None:
    robots = (
        "User-agent: *\n"
        "Disallow: /*.php$\n"
        "Disallow: /search*sort=\n"
        "Disallow: /fish*\n"
    )
    assert not allowed(robots, "/index.php")
    assert allowed(robots, "/index.php?x=1")  # `$` anchors the end: the query breaks the match
    assert not allowed(robots, "/search/gpu?q=3090&sort=price")
    assert allowed(robots, "/search/gpu?q=3090")
    assert not allowed(robots, "/fishheads")
    assert allowed(robots, "/Fish")  # paths match case-sensitively


def test_query_string_is_part_of_the_path() -> None:
    robots = "User-agent: *\nDisallow: /search?*page=\n"
    assert not allowed(robots, "https://example.org/search?q=gpu&page=2")
    assert allowed(robots, "https://example.org/search?q=gpu")


def test_our_group_beats_the_star_group_and_groups_merge() -> None:
    robots = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: GPUScout\nDisallow: /private\n\n"
        "User-agent: otherbot\nDisallow: /public\n\n"
        "user-agent: gpuscout/2.0\nDisallow: /tmp\n"
    )
    assert allowed(robots, "/public")
    assert not allowed(robots, "/private/1")
    assert not allowed(robots, "/tmp/1")  # the two gpuscout groups are combined
    assert not allowed(robots, "/public", ua="somebot/1.0")  # falls back to *


def test_consecutive_user_agent_lines_share_one_group() -> None:
    robots = "User-agent: a-bot\nUser-agent: gpuscout\nDisallow: /x\n"
    assert not allowed(robots, "/x")
    assert not allowed(robots, "/x", ua="a-bot")


def test_no_matching_group_and_no_star_allows_everything() -> None:
    assert allowed("User-agent: otherbot\nDisallow: /\n", "/anything")
    assert allowed("", "/anything")
    assert allowed("Disallow: /\n", "/anything")  # a rule outside any group is ignored


def test_empty_disallow_allows_all() -> None:
    assert allowed("User-agent: *\nDisallow:\n", "/x")


def test_robots_txt_itself_is_always_allowed() -> None:
    assert allowed("User-agent: *\nDisallow: /\n", "/robots.txt")
    assert not allowed("User-agent: *\nDisallow: /\n", "/")


def test_comments_bom_crlf_and_garbage_lines_are_tolerated() -> None:
    robots = (
        "\ufeff# site rules\r\n"
        "User-Agent: *   # everyone\r\n"
        "this line is nonsense\r\n"
        "Sitemap: https://example.org/sitemap.xml\r\n"
        "DISALLOW: /cart # shopping cart\r\n"
    )
    assert not allowed(robots, "/cart/1")
    assert allowed(robots, "/catalog")


def test_sitemap_line_does_not_split_a_group() -> None:
    robots = "User-agent: *\nDisallow: /a\nSitemap: /s.xml\nDisallow: /b\n"
    assert not allowed(robots, "/b")


def test_percent_encoding_is_normalised_on_both_sides() -> None:
    assert normalize_path("/%7euser/%e2%82%ac") == "/~user/%E2%82%AC"
    assert normalize_path("/€") == "/%E2%82%AC"
    robots = "User-agent: *\nDisallow: /€uro\nDisallow: /%7Ehome\nDisallow: /a%2Fb\n"
    assert not allowed(robots, "/%E2%82%ACuro/x")
    assert not allowed(robots, "/~home")
    assert not allowed(robots, "/a%2fb")
    assert allowed(robots, "/a/b")  # an encoded slash is not a slash


def test_literal_star_and_dollar_by_percent_encoding() -> None:
    robots = "User-agent: *\nDisallow: /file-%2A.html\nDisallow: /price-%24\n"
    assert not allowed(robots, "/file-%2A.html")
    assert allowed(robots, "/file-x.html")
    assert not allowed(robots, "/price-%24/1")


def test_crawl_delay_is_read_from_our_group() -> None:
    rules = parse_robots("User-agent: *\nCrawl-delay: 10\nDisallow: /x\n", UA)
    assert rules.crawl_delay == 10.0
    assert parse_robots("User-agent: *\nCrawl-delay: soon\n", UA).crawl_delay is None


def test_only_the_first_500_kib_is_read() -> None:
    padding = "# " + "x" * (MAX_ROBOTS_BYTES + 10) + "\n"
    robots = ("User-agent: *\n" + padding + "Disallow: /\n").encode()
    assert allowed(robots.decode(), "/deep")  # the rule past the limit is never seen
    assert parse_robots(robots, UA).is_allowed("/deep")


def test_allow_all_and_disallow_all() -> None:
    assert RobotsRules.allow_all().is_allowed("/x")
    deny = RobotsRules.disallow_all()
    assert not deny.is_allowed("/x")
    assert not deny.is_allowed("/")
    assert deny.origin == "unreachable"


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/", True), ("/sch/i.html", True), ("/sch/", False), ("/sch/ajax?x", False)],
)
def test_ebay_style_rules(path: str, expected: bool) -> None:
    robots = "User-agent: *\nDisallow: /sch/\nAllow: /sch/i.html$\nAllow: /sch/i.html?\n"
    assert allowed(robots, path) is expected
