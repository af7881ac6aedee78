"""EDIFACT syntax level B (UNOB) for Bots."""

from ._edifact import UNOB, codec_info


def getregentry():
    return codec_info("unob", UNOB)
