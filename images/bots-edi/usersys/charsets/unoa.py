"""EDIFACT syntax level A (UNOA) for Bots."""

from ._edifact import UNOA, codec_info


def getregentry():
    return codec_info("unoa", UNOA)
