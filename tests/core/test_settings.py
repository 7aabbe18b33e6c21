"""Settings from the environment: the QR base URL as docs/code-format.md, section 1.4, has it."""

from __future__ import annotations

import pytest

from gimark.core.errors import ConfigurationError
from gimark.core.settings import DEFAULT_BASE_URL, load_settings, printed_base


@pytest.mark.parametrize(
    ("configured", "base"),
    [
        ("HTTPS://GI.EXAMPLE.CN/V", "HTTPS://GI.EXAMPLE.CN/V"),
        ("https://gi.example.cn/v", "HTTPS://GI.EXAMPLE.CN/V"),  # upper-cased for the QR
        ("  https://gi.example.cn/v/ \n", "HTTPS://GI.EXAMPLE.CN/V"),
        ("https://gi.example.cn/v///", "HTTPS://GI.EXAMPLE.CN/V"),  # every trailing slash
        ("http://127.0.0.1:8000/", "HTTP://127.0.0.1:8000"),
        ("https://gi.example.cn/%41+$*:-", "HTTPS://GI.EXAMPLE.CN/%41+$*:-"),
    ],
)
def test_a_configured_base_is_printed_in_upper_case(configured: str, base: str) -> None:
    assert load_settings({"GIMARK_BASE_URL": configured}).base_url == base


@pytest.mark.parametrize(
    "configured",
    [
        "gi.example.cn/v",  # no scheme
        "ftp://gi.example.cn/v",
        "https://",
        "https:///v",  # no host
        "https://gi.example.cn/v?lang=en",  # "?" and "=" are outside the QR alphanumeric set
        "https://gi.example.cn/标志",
        "https://gi example.cn/v",  # the space is in the set, but not in a URL
        "https://gi_example.cn/v",
        "https://straße.cn/v",  # "ß".upper() is "SS": another host, so not upper-cased
    ],
)
def test_a_base_outside_the_qr_alphanumeric_set_is_refused(configured: str) -> None:
    with pytest.raises(ConfigurationError, match="GIMARK_BASE_URL") as info:
        load_settings({"GIMARK_BASE_URL": configured})
    assert repr(configured.strip()) in info.value.message("en")
    assert "二维码" in info.value.message("zh")


def test_the_default_base_is_the_development_server() -> None:
    assert load_settings({}).base_url == DEFAULT_BASE_URL == "HTTP://127.0.0.1:8000/V"
    assert printed_base(DEFAULT_BASE_URL) == DEFAULT_BASE_URL


def test_extra_bases_are_read_not_printed_so_only_the_scheme_is_required() -> None:
    settings = load_settings(
        {
            "GIMARK_BASE_URL": "https://gi.example.cn/v",
            "GIMARK_EXTRA_BASE_URLS": "http://old.example.cn/gi_v/, ,https://gi.cn",
        }
    )
    assert settings.bases == (
        "HTTPS://GI.EXAMPLE.CN/V",
        "HTTP://OLD.EXAMPLE.CN/GI_V",
        "HTTPS://GI.CN",
    )
    with pytest.raises(ConfigurationError, match="GIMARK_EXTRA_BASE_URLS"):
        load_settings({"GIMARK_EXTRA_BASE_URLS": "old.example.cn"})


def test_printed_base_takes_nothing_but_the_printable_form() -> None:
    assert printed_base("HTTPS://GI.EXAMPLE.CN/V//") == "HTTPS://GI.EXAMPLE.CN/V"
    with pytest.raises(ConfigurationError, match="upper-case"):
        printed_base("https://gi.example.cn/v")  # load_settings upper-cases; this does not
