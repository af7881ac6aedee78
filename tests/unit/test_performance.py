"""Performance Degradation's readings: the processlist table dbshell prints, and dd's summary line."""
from __future__ import annotations

import pytest

from edirunbook.errors import AppError
from edirunbook.performance import ProcessRow, parse_dd, shown_processlist

SCREEN = """\
MariaDB [botsedi_data]> SHOW FULL PROCESSLIST;
+-----+---------+------------------+--------------+---------+------+----------+-----------------------+----------+
| Id  | User    | Host             | db           | Command | Time | State    | Info                  | Progress |
+-----+---------+------------------+--------------+---------+------+----------+-----------------------+----------+
| 231 | botsedi | 172.17.0.1:53090 | botsedi_data | Sleep   |    0 |          | NULL                  |    0.000 |
| 232 | botsedi | 172.17.0.3:45742 | botsedi_data | Query   |    0 | starting | SHOW FULL PROCESSLIST |    0.000 |
+-----+---------+------------------+--------------+---------+------+----------+-----------------------+----------+
2 rows in set (0.000 sec)

MariaDB [botsedi_data]> """


def test_the_processlist_table_is_read_row_by_row() -> None:
    assert shown_processlist(SCREEN) == [
        ProcessRow(231, "botsedi", "172.17.0.1:53090", "Sleep", ""),
        ProcessRow(232, "botsedi", "172.17.0.3:45742", "Query", "SHOW FULL PROCESSLIST"),
    ]


def test_the_last_processlist_shown_counts() -> None:
    later = SCREEN + "SHOW FULL PROCESSLIST;\n" + SCREEN.split("\n", 1)[1].replace("| 231 |", "| 240 |")
    assert [row.id for row in shown_processlist(later)] == [240, 232]


def test_no_processlist_says_what_the_terminal_showed() -> None:
    with pytest.raises(AppError, match="bash: SHOW: command not found"):
        shown_processlist("operator(0)$ SHOW FULL PROCESSLIST;\nbash: SHOW: command not found\n")


def test_dd_summary_gives_bytes_seconds_and_rate() -> None:
    output = ("100+0 records in\n100+0 records out\n"
              "104857600 bytes (105 MB, 100 MiB) copied, 0.0443564 s, 2.4 GB/s\n")
    summary = parse_dd(output)
    assert (summary.bytes, summary.seconds, summary.rate) == (104857600, 0.0443564, "2.4 GB/s")


def test_dd_without_a_summary_is_an_error_showing_its_output() -> None:
    with pytest.raises(AppError, match="No space left on device"):
        parse_dd("dd: error writing '/home/bots/.bots/test': No space left on device\n")
