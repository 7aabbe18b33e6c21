"""Requests that fetch a label's URL without anyone scanning it: link previewers and crawlers.

A consumer who pastes the verification link into a chat makes the messenger fetch it (for the
preview card), often several times and from the messenger's servers; search engines follow
links they find. Counted as scans, these would make a genuine label look scanned by many
people in many places (a duplicate suspected). They get the same answer and are not counted.

Recognised by User-Agent: a claim anyone can copy, but claiming to be a bot only keeps a
scan out of the pattern, so a lie gains a counterfeiter nothing. WeChat's in-app *browser*
("MicroMessenger") is how most consumers scan: it is a person, never listed here. WeChat's
own preview fetches do not publish a stable User-Agent; the share extension's token is
listed, and the generic tokens below catch the rest that call themselves bots or spiders.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["is_previewer"]

# Lower-case substrings of the User-Agent.
_MARKERS: Final = (
    # Messengers' and social networks' link previews
    "wechatshareextension",  # WeChat's iOS share extension fetching a card
    "facebookexternalhit",  # also WhatsApp's and Instagram's previews
    "facebot",
    "meta-externalagent",
    "twitterbot",
    "slackbot",  # Slackbot-LinkExpanding, Slack-ImgProxy
    "slack-imgproxy",
    "telegrambot",
    "whatsapp/",  # WhatsApp/2.23.18.78 i: the app's own preview fetch
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "iframely",
    "embedly",
    "pinterestbot",
    "redditbot",
    "snap url preview",
    "imessagelinkpreviews",
    "vkshare",
    # Search engines
    "googlebot",
    "google-inspectiontool",
    "adsbot-google",
    "bingbot",
    "baiduspider",
    "yandexbot",
    "sogou web spider",  # not bare "sogou": SogouMobileBrowser is a person
    "sogou inst spider",
    "sogou spider",
    "360spider",
    "haosouspider",
    "bytespider",
    "yisouspider",  # Shenma (UC / Alibaba)
    "petalbot",
    "applebot",
    "duckduckbot",
    "slurp",
)
# Generic: a product token that names itself a bot, crawler or spider ("AhrefsBot/7.0",
# "Sogou web spider/4.0", "(compatible; SomeCrawler)"). Not any "bot" inside a word: Cubot
# phones put "CUBOT X19" in their browsers' User-Agent.
_GENERIC: Final = re.compile(r"\b\w*(?:bot|crawler|spider)\b(?:[/;)]|$)|\b(?:bot|crawler|spider)\b")
_PERSON: Final = "micromessenger"  # WeChat's in-app browser: a consumer, whatever else it says


def is_previewer(user_agent: str | None) -> bool:
    """Whether ``user_agent`` is a link previewer or a crawler, not a person scanning."""
    text = (user_agent or "").lower()
    if _PERSON in text:
        return False
    return any(marker in text for marker in _MARKERS) or _GENERIC.search(text) is not None
