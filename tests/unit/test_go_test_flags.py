"""`make unit` runs our add-ons' Go tests with the image build's Go settings: otherwise every package the tests share
with the image (gRPC, the CSI spec, protobuf ...) is compiled a second time on a cold machine."""
from __future__ import annotations

import re
import shlex

from edirunbook import gobuild, paths


def test_the_makefile_go_tests_use_the_image_builds_go_settings() -> None:
    makefile = (paths.REPO_ROOT / "Makefile").read_text()
    found = re.search(r"^GO_TEST := (.*) go test (.*)$", makefile, re.MULTILINE)
    assert found, "the Makefile defines GO_TEST as `<settings> go test <compiler flags>`"
    settings = dict(word.split("=", 1) for word in shlex.split(found.group(1)))
    assert settings == gobuild.go_env()
    # the add-ons' images (csi-hostpath, alert-receiver) are compiled with TOOL_GCFLAGS
    assert shlex.split(found.group(2)) == [f"-gcflags={gobuild.TOOL_GCFLAGS}"]
    assert makefile.count("$(GO_TEST) ./...") == 2, "both add-on Go test lines use GO_TEST"
