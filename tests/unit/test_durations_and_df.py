"""The few pieces of text steps read themselves: durations in features, and df's table of the data volume."""
import pytest

from edirunbook.durations import parse_duration
from edirunbook.errors import AppError, DurationError
from edirunbook.volume import df_use_percent

DF = ("Filesystem      Size  Used Avail Use% Mounted on\n"
      "overlay          79G   12G   67G  15% /\n"
      "edirunbook-data 256M  256M     0 100% /home/bots/.bots\n")


@pytest.mark.parametrize(("text", "expected"), [("90s", 90), ("3m", 180), ("1h", 3600), ("1.5m", 90)])
def test_durations(text: str, expected: float) -> None:
    assert parse_duration(text) == expected


def test_a_duration_without_unit_is_refused() -> None:
    with pytest.raises(DurationError, match="'90' is not a duration: write it like 30s, 15m, 1h"):
        parse_duration("90")


def test_df_percentage_of_the_data_volume() -> None:
    assert df_use_percent(DF, "/home/bots/.bots") == 100
    assert df_use_percent(DF, "/") == 15


def test_df_reads_the_reference_data_volume_where_the_runbook_names_it() -> None:
    from edirunbook.target import AppPaths

    assert df_use_percent(DF, AppPaths().data_volume) == 100


def test_df_without_the_volume_says_so() -> None:
    with pytest.raises(AppError, match="no line for /home/bots/.bots"):
        df_use_percent("Filesystem Size Used Avail Use% Mounted on\n", "/home/bots/.bots")
