"""The few pieces of text steps read themselves: durations in features, df and kubectl tables."""
import pytest

from steps.commands import _df_use_percent
from steps.timeouts import seconds


@pytest.mark.parametrize(("text", "expected"), [("90s", 90), ("3m", 180), ("1h", 3600), ("1.5m", 90)])
def test_durations(text: str, expected: float) -> None:
    assert seconds(text) == expected


def test_a_duration_without_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="90s, 3m, 1h"):
        seconds("90")


def test_df_percentage_of_the_data_volume() -> None:
    output = ("Filesystem      Size  Used Avail Use% Mounted on\n"
              "overlay          79G   12G   67G  15% /\n"
              "edirunbook-data 256M  256M     0 100% /home/bots/.bots\n")
    assert _df_use_percent(output, "/home/bots/.bots") == 100


def test_df_without_the_volume_says_so() -> None:
    with pytest.raises(AssertionError, match="no line for /home/bots/.bots"):
        _df_use_percent("Filesystem Size Used Avail Use% Mounted on\n", "/home/bots/.bots")
